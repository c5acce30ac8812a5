"""A contact sheet of synthetic items, captures and attacks, for eyeballing the model.

``python -m fingerprint.synth.sheet docs/synth_examples.png`` draws one row per material:
the label surface, its fingerprint window at full resolution, captures at the three
tiers (whole frame, shrunk), the window of a MEDIUM capture at the camera's own pixels,
and the windows of the three attacks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.region import RegionSpec
from fingerprint.synth.attacks import copied_serial, print_copy, twin
from fingerprint.synth.camera import project
from fingerprint.synth.capture import Capture, capture_with_truth
from fingerprint.synth.items import Item, make_item
from fingerprint.synth.label import module_to_surface
from fingerprint.synth.materials import Material
from fingerprint.synth.tiers import Tier

_ROW = 200  # pixel height of a row
_HEADER = 28
_TITLES = (
    "label surface",
    "window 1:1",
    "easy",
    "medium",
    "hard",
    "medium, camera px",
    "copied serial",
    "twin",
    "print copy",
)


def _grey_to_bgr(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def _fit(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """``image`` shrunk (area-averaged) to the row height."""
    width = round(image.shape[1] * _ROW / image.shape[0])
    return np.asarray(cv2.resize(image, (width, _ROW), interpolation=cv2.INTER_AREA), np.uint8)


def _window_crop(item: Item) -> NDArray[np.uint8]:
    """The top-left ``_ROW``×``_ROW`` surface pixels of the window, unscaled."""
    x0, y0 = (round(v + 0.5) for v in module_to_surface(RegionSpec().corners())[0])
    return _grey_to_bgr(item.surface[y0 : y0 + _ROW, x0 : x0 + _ROW])


def _camera_crop(item: Item, shot: Capture) -> NDArray[np.uint8]:
    """``_ROW``×``_ROW`` frame pixels around the window's centre, unscaled."""
    window = RegionSpec()
    centre = module_to_surface(
        np.array([[window.x + window.width / 2, window.y + window.height / 2]])
    )
    x, y = np.rint(project(centre, shot.homography)[0]).astype(int) - _ROW // 2
    height, width = shot.image.shape[:2]
    x, y = min(max(x, 0), width - _ROW), min(max(y, 0), height - _ROW)
    return np.asarray(shot.image[y : y + _ROW, x : x + _ROW], np.uint8)


def _row(material: Material, rng: np.random.Generator) -> list[NDArray[np.uint8]]:
    item = make_item(rng, material, int(rng.integers(1000)))
    shots = {tier: capture_with_truth(item, rng, tier) for tier in Tier}
    tiles = [_fit(_grey_to_bgr(item.surface)), _window_crop(item)]
    tiles += [_fit(np.asarray(shots[tier].image)) for tier in Tier]
    tiles.append(_camera_crop(item, shots[Tier.MEDIUM]))
    tiles += [_window_crop(attack(item, rng)) for attack in (copied_serial, twin, print_copy)]
    return tiles


def contact_sheet(seed: int = 2026) -> NDArray[np.uint8]:
    """The contact sheet as a BGR image, one row per material (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    rows = [_row(material, rng) for material in Material]
    widths = [max(row[k].shape[1] for row in rows) for k in range(len(_TITLES))]
    gap = 6
    sheet = np.full(
        (_HEADER + len(rows) * (_ROW + gap), sum(widths) + gap * len(widths), 3), 255, np.uint8
    )
    lefts = np.cumsum([0, *[w + gap for w in widths]])
    for left, title in zip(lefts, _TITLES, strict=False):
        cv2.putText(
            sheet,
            title,
            (int(left) + 4, 20),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.55,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    for r, (material, row) in enumerate(zip(Material, rows, strict=True)):
        top = _HEADER + r * (_ROW + gap)
        for left, tile in zip(lefts, row, strict=False):
            sheet[top : top + _ROW, int(left) : int(left) + tile.shape[1]] = tile
        cv2.rectangle(sheet, (0, top), (78, top + 22), (255, 255, 255), -1)
        cv2.putText(
            sheet,
            str(material),
            (4, top + 16),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.55,
            (0, 0, 192),
            1,
            cv2.LINE_AA,
        )
    return sheet


def main(argv: list[str]) -> int:
    """Write the contact sheet to the path given as the only argument."""
    if len(argv) != 1:
        print("usage: python -m fingerprint.synth.sheet OUT.png", file=sys.stderr)
        return 2
    if not cv2.imwrite(str(Path(argv[0])), contact_sheet(), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        print(f"could not write {argv[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
