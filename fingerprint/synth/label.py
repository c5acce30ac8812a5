"""Label layout, its artwork, and printing it onto a material (inks in ``ink.py``).

Layout of a synthetic label, in code modules (16 surface pixels each)::

    ┌──────────────────────────────────────────────────────────┐
    │  ┌────────────┐   ┌──────────────────┐                   │
    │  │ DataMatrix │   │ fingerprint      │   white box: code │
    │  │ 22×22      │   │ window 22×22     │   + 2-module quiet│
    │  └────────────┘   └──────────────────┘   zone            │
    │  (01)…(17)…(10)…(21)…   human-readable line              │
    └──────────────────────────────────────────────────────────┘

The code's top-left corner sits 4 modules from the label's top-left corner; the window is
where :class:`fingerprint.region.RegionSpec` puts it, framed by a thin printed line one
module outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.region import RegionSpec
from fingerprint.synth.fields import Field, gaussian_field
from fingerprint.synth.gs1 import CODE_MODULES, datamatrix_modules
from fingerprint.synth.ink import apply_ink, apply_white, spread

#: Surfaces are rendered at this many pixels per code module.
SURFACE_PX_PER_MODULE = 16
#: Label size in modules, (width, height).
LABEL_MODULES = (56, 33)
#: Position of the code's top-left corner on the label, in modules.
CODE_OFFSET_MODULES = 4
#: Quiet zone printed white around the code, in modules.
QUIET_ZONE_MODULES = 2
#: Surface shape (H, W) in pixels.
SURFACE_SHAPE = (
    LABEL_MODULES[1] * SURFACE_PX_PER_MODULE,
    LABEL_MODULES[0] * SURFACE_PX_PER_MODULE,
)
#: Surface coordinates of the code's outer top-left corner (pixel centres are integers).
CODE_ORIGIN_PX = (
    CODE_OFFSET_MODULES * SURFACE_PX_PER_MODULE - 0.5,
    CODE_OFFSET_MODULES * SURFACE_PX_PER_MODULE - 0.5,
)

#: Reflectance of the white ink the quiet-zone box is printed with.
WHITE_INK = 0.93

_FRAME_THICKNESS_PX = 3
_TEXT_SCALE = 0.8
_TEXT_BASELINE_MODULES = 26.5


@dataclass(frozen=True, slots=True, kw_only=True)
class Artwork:
    """What the label printer lays down, as coverage in [0, 1] at surface resolution.

    Attributes
    ----------
    white : NDArray[np.float32]
        Shape (H, W): opaque white ink (the code's quiet-zone box).
    ink : NDArray[np.float32]
        Shape (H, W): black ink (code modules, window frame, human-readable line).
    """

    white: NDArray[np.float32]
    ink: NDArray[np.float32]

    def __post_init__(self) -> None:
        for array in (self.white, self.ink):
            array.flags.writeable = False

    def footprint(self, margin_px: int) -> NDArray[np.float32]:
        """1 where anything is printed, grown by ``margin_px``, else 0; shape (H, W)."""
        printed = ((self.white + self.ink) > 0).astype(np.uint8)
        size = 2 * margin_px + 1
        grown = cv2.dilate(printed, np.ones((size, size), np.uint8))
        return np.asarray(grown, dtype=np.float32)


def module_to_surface(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Surface pixel coordinates of points given in code-module units, shape (N, 2)."""
    return np.asarray(CODE_ORIGIN_PX, dtype=np.float64) + SURFACE_PX_PER_MODULE * points


def _module_span(start: float, stop: float) -> slice:
    """Pixel slice covering modules [start, stop) relative to the code origin."""
    base = CODE_OFFSET_MODULES * SURFACE_PX_PER_MODULE
    return slice(
        base + round(start * SURFACE_PX_PER_MODULE),
        base + round(stop * SURFACE_PX_PER_MODULE),
    )


def _code_coverage(gs1: str) -> NDArray[np.float32]:
    """The DataMatrix modules of ``gs1`` at their place on the label, 1 = dark."""
    code = np.zeros(SURFACE_SHAPE, np.float32)
    modules = datamatrix_modules(gs1).astype(np.float32)
    span = _module_span(0, CODE_MODULES)
    code[span, span] = np.kron(modules, np.ones((SURFACE_PX_PER_MODULE,) * 2, np.float32))
    return code


def _strokes(gs1: str) -> NDArray[np.float32]:
    """The window's frame and the human-readable line, anti-aliased, 1 = dark."""
    strokes = np.zeros(SURFACE_SHAPE, np.uint8)
    window = RegionSpec()
    frame = module_to_surface(
        np.array(
            [
                [window.x - 1, window.y - 1],
                [window.x + window.width + 1, window.y + window.height + 1],
            ]
        )
    )
    cv2.rectangle(
        strokes,
        tuple(round(v) for v in frame[0]),
        tuple(round(v) for v in frame[1]),
        255,
        _FRAME_THICKNESS_PX,
        cv2.LINE_AA,
    )
    baseline = module_to_surface(np.array([[-0.5, _TEXT_BASELINE_MODULES]]))[0]
    cv2.putText(
        strokes,
        gs1,
        (round(baseline[0]), round(baseline[1])),
        cv2.FONT_HERSHEY_SIMPLEX,
        _TEXT_SCALE,
        255,
        2,
        cv2.LINE_AA,
    )
    if strokes[:, -1].any() or strokes[-1, :].any():
        raise ValueError(f"the human-readable line of {gs1!r} does not fit on the label")
    return np.asarray(strokes, dtype=np.float32) / np.float32(255.0)


@lru_cache(maxsize=64)
def artwork(gs1: str) -> Artwork:
    """The deterministic artwork of a label carrying ``gs1`` (see the module docstring)."""
    white = np.zeros(SURFACE_SHAPE, np.float32)
    quiet = _module_span(-QUIET_ZONE_MODULES, CODE_MODULES + QUIET_ZONE_MODULES)
    white[quiet, quiet] = 1.0
    return Artwork(white=white, ink=np.maximum(_code_coverage(gs1), _strokes(gs1)))


def print_label(texture: Field, gs1: str, rng: np.random.Generator) -> NDArray[np.uint8]:
    """Print the label artwork for ``gs1`` onto a material ``texture``.

    Parameters
    ----------
    texture : Field
        Reflectance of the bare material in [0, 1], shape ``SURFACE_SHAPE``.
    gs1 : str
        Element string to encode and print.
    rng : numpy.random.Generator
        Ink noise: white-ink mottle, dot gain, edge raggedness, density.

    Returns
    -------
    NDArray[np.uint8]
        The printed surface, shape ``SURFACE_SHAPE``, reflectance × 255.
    """
    art = artwork(gs1)
    white_ink = np.float32(WHITE_INK) + np.float32(0.015) * gaussian_field(rng, SURFACE_SHAPE, 2.0)
    surface = apply_white(
        texture, art.white, opacity=float(rng.uniform(0.85, 0.95)), white=white_ink
    )
    coverage = spread(
        art.ink,
        rng,
        sigma=float(rng.uniform(0.6, 1.2)),
        gain=float(rng.uniform(2.5, 4.0)),
        roughness=float(rng.uniform(0.05, 0.12)),
    )
    density = np.float32(rng.uniform(0.22, 0.3)) * (
        np.float32(1.0) + np.float32(0.1) * gaussian_field(rng, SURFACE_SHAPE, 3.0)
    )
    surface = apply_ink(surface, coverage, transmittance=density, scatter_px=1.5)
    return to_uint8(surface)


def to_uint8(reflectance: Field) -> NDArray[np.uint8]:
    """Reflectance in [0, 1] quantised to uint8 (rounded, clipped)."""
    return np.asarray(np.clip(reflectance * 255.0 + 0.5, 0, 255), dtype=np.uint8)
