"""Find the item's code and cut out its fingerprint window as a rectified patch.

The code (GS1 DataMatrix or QR, read with zxing-cpp) gives four corners in the symbol's
own orientation; with its module count they define a homography from code-module units
to image pixels, and the ``RegionSpec`` places the window in those units. Without a
code in view the whole image is the window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp
from numpy.typing import NDArray

from fingerprint import gs1
from fingerprint.region import RegionSpec

_FORMATS = (zxingcpp.BarcodeFormat.DataMatrix, zxingcpp.BarcodeFormat.QRCode)
MIN_CODE_SIDE = 64
"""Frames smaller than twice this are not tried at half size."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemCode:
    """A decoded code: its text, what the text says, and where the symbol is.

    ``corners`` is (4, 2) image coordinates of the symbol's top-left, top-right,
    bottom-right and bottom-left corners in the symbol's own orientation; ``modules`` is
    its size (columns, rows). ``gs1`` is set when the text is a valid GS1 element string.
    """

    text: str
    symbology: str
    modules: tuple[int, int]
    corners: NDArray[np.float64] = field(repr=False)
    gs1: gs1.Gs1 | None = None

    def __post_init__(self) -> None:
        self.corners.flags.writeable = False

    @property
    def serial(self) -> str:
        """The item's serial: GS1 AI (21) where present, else the whole text."""
        return self.gs1.serial if self.gs1 is not None else self.text


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """The rectified fingerprint window.

    ``patch`` is (S, S) uint8; ``to_image`` maps patch pixel coordinates to the source
    image; ``size_px`` is the window's side in source pixels (geometric mean of its
    sides), the resolution the patch really has; ``in_view`` is the share of the window
    that lies inside the image.
    """

    patch: NDArray[np.uint8] = field(repr=False)
    to_image: NDArray[np.float64] = field(repr=False)
    size_px: float
    in_view: float
    code: ItemCode | None

    def __post_init__(self) -> None:
        self.patch.flags.writeable = False
        self.to_image.flags.writeable = False


def read_code(gray: NDArray[np.uint8]) -> ItemCode | None:
    """Decode the largest DataMatrix or QR code in view, or None.

    Print texture inside large modules can defeat zxing-cpp's local binarizer at full
    resolution; the image is then tried smoothed, and at half size (corners scaled back).
    """
    for image, scale in _decode_attempts(gray):
        found = [b for b in zxingcpp.read_barcodes(image, formats=_FORMATS) if b.valid]
        if found:
            return _item_code(max(found, key=_area), scale)
    return None


def _decode_attempts(gray: NDArray[np.uint8]) -> Iterator[tuple[NDArray[np.uint8], float]]:
    yield gray, 1.0
    yield np.asarray(cv2.GaussianBlur(gray, (0, 0), 1.5), np.uint8), 1.0
    if min(gray.shape) >= 2 * MIN_CODE_SIDE:
        yield np.asarray(cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)), 2.0


def _area(barcode: zxingcpp.Barcode) -> float:
    return float(cv2.contourArea(_corners(barcode).astype(np.float32)))


def _item_code(best: zxingcpp.Barcode, scale: float) -> ItemCode:
    text = best.text
    parsed: gs1.Gs1 | None = None
    if best.content_type == zxingcpp.ContentType.GS1:
        try:
            parsed = gs1.parse(text)
        except gs1.Gs1Error:
            parsed = None
    return ItemCode(
        text=text,
        symbology=str(best.format),
        modules=_modules(best),
        corners=_corners(best) * scale,
        gs1=parsed,
    )


def _corners(barcode: zxingcpp.Barcode) -> NDArray[np.float64]:
    p = barcode.position
    pts = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
    return np.array([[q.x, q.y] for q in pts], dtype=np.float64)


def _modules(barcode: zxingcpp.Barcode) -> tuple[int, int]:
    """Symbol size in modules, from zxing-cpp's ``Version`` ("22x22" or a QR version)."""
    version = str((barcode.extra or {}).get("Version", ""))
    if "x" in version:
        rows, cols = (int(v) for v in version.split("x"))
        return cols, rows
    side = 17 + 4 * int(version)  # QR Code model 2: ISO/IEC 18004 §5.3.1
    return side, side


def _module_corners(code: ItemCode) -> NDArray[np.float64]:
    """Outer corners in module units, matching ``ItemCode.corners``.

    zxing-cpp reports a DataMatrix's corners on the outer edge of the symbol, and a QR
    code's at the outer corners of its finder patterns, i.e. also the symbol's edge.
    """
    cols, rows = code.modules
    return np.array([[0, 0], [cols, 0], [cols, rows], [0, rows]], dtype=np.float64)


def locate(
    gray: NDArray[np.uint8], region: RegionSpec = RegionSpec(), patch_size: int = 256
) -> Window:
    """Rectify the fingerprint window of ``gray`` (H, W) into a (patch_size, patch_size) patch."""
    code = read_code(gray)
    if code is None:
        h, w = gray.shape
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
        return _window(gray, src, patch_size, None)
    return window_at(gray, code, module_homography(code), region, patch_size)


def module_homography(code: ItemCode) -> NDArray[np.float64]:
    """The homography (3, 3) from ``code``'s module units to image pixels, by its corners."""
    return _homography(_module_corners(code), code.corners)


def window_at(
    gray: NDArray[np.uint8],
    code: ItemCode,
    modules_to_image: NDArray[np.float64],
    region: RegionSpec = RegionSpec(),
    patch_size: int = 256,
) -> Window:
    """The window of ``gray`` where ``modules_to_image`` (3, 3) puts ``region``."""
    return _window(gray, _apply(modules_to_image, region.corners()), patch_size, code)


def _window(
    gray: NDArray[np.uint8], src: NDArray[np.float64], patch_size: int, code: ItemCode | None
) -> Window:
    """Rectify the quadrilateral ``src`` (4, 2) of ``gray`` into a square patch."""
    dst = np.array(
        [[0, 0], [patch_size, 0], [patch_size, patch_size], [0, patch_size]], dtype=np.float64
    )
    to_image = _homography(dst, src)
    sides = np.linalg.norm(src - np.roll(src, -1, axis=0), axis=1)
    size_px = float(np.sqrt(((sides[0] + sides[2]) / 2) * ((sides[1] + sides[3]) / 2)))
    patch = _warp(gray, to_image, patch_size, size_px)
    return Window(
        patch=patch,
        to_image=to_image,
        size_px=size_px,
        in_view=_in_view(to_image, patch_size, gray.shape),
        code=code,
    )


def _in_view(to_image: NDArray[np.float64], size: int, shape: tuple[int, ...]) -> float:
    """Share of a 32×32 grid of window points that falls inside the image."""
    steps = (np.arange(32) + 0.5) * (size / 32)
    grid = np.array([[x, y] for y in steps for x in steps], np.float64)
    points = _apply(to_image, grid)
    h, w = shape[:2]
    inside = (points[:, 0] >= 0) & (points[:, 0] < w) & (points[:, 1] >= 0) & (points[:, 1] < h)
    return float(inside.mean())


def _homography(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
    h = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
    return np.asarray(h, dtype=np.float64)


def _apply(h: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    out = cv2.perspectiveTransform(points.reshape(-1, 1, 2), h)
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


def _warp(
    gray: NDArray[np.uint8], to_image: NDArray[np.float64], size: int, size_px: float
) -> NDArray[np.uint8]:
    """Sample the window; halve the source first while it is over twice the patch's size."""
    scale = np.eye(3)
    source = gray
    while size_px * scale[0, 0] > 2 * size and min(source.shape) > 2 * 16:
        source = cv2.pyrDown(source)
        scale = np.diag([0.5, 0.5, 1.0]) @ scale
    patch = cv2.warpPerspective(
        source,
        scale @ to_image,
        (size, size),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT,
    )
    return np.ascontiguousarray(patch, dtype=np.uint8)
