"""Sub-pixel registration on the item's code: its ideal picture, fitted by ECC.

zxing-cpp's corners place a code to within a pixel or so, and the window beside it,
extrapolated from them, is misplaced by several (up to 1.5 modules at its far edge on
synthetic bursts). Every burst of the item must put the window on the same module
coordinates, so each frame is fitted to one target that does not depend on the burst:
the code's **ideal picture** — its module pattern (read from the reference frame at the
module centres, where zxing-cpp sampled it) drawn as black and white squares in a light
quiet zone. The homography from module units to the frame is refined by maximising the
enhanced correlation coefficient between the frame and that picture, which is invariant
to the frame's brightness and contrast (Evangelidis & Psarakis 2008, with OpenCV's
``findTransformECC``).

References
----------
G. D. Evangelidis, E. Z. Psarakis, "Parametric Image Alignment Using Enhanced
Correlation Coefficient Maximization", IEEE TPAMI 30(10), 2008, pp. 1858–1865.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

QUIET_MODULES = 2
"""Light modules drawn round the code (ECC needs the code's outer edge)."""
_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-5)


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeModel:
    """The ideal picture of a code, ``px`` pixels per module, quiet zone included.

    ``image`` is (H, W) uint8, 0 for a dark module and 255 for a light one, blurred
    like a sharp capture; ``dark`` (rows, cols) bool is the module pattern.
    """

    dark: NDArray[np.bool_] = field(repr=False)
    px: int
    image: NDArray[np.uint8] = field(repr=False)

    def __post_init__(self) -> None:
        self.dark.flags.writeable = False
        self.image.flags.writeable = False

    @classmethod
    def draw(cls, dark: NDArray[np.bool_], px: int) -> CodeModel:
        """The picture of module pattern ``dark`` (rows, cols) at ``px`` ≥ 2 px per module."""
        if px < 2 or dark.ndim != 2:
            raise ValueError(f"want a 2-D module pattern and px ≥ 2, got {dark.shape}, {px}")
        light = np.pad(~dark, QUIET_MODULES, constant_values=True).astype(np.float32)
        image = cv2.GaussianBlur(np.kron(light, np.full((px, px), 255, np.float32)), (0, 0), px / 4)
        return cls(dark=dark, px=px, image=np.rint(image).astype(np.uint8))

    def to_modules(self) -> NDArray[np.float64]:
        """Homography (3, 3) from the picture's pixels (centres at integers) to module units."""
        s = 1.0 / self.px
        t = 0.5 * s - QUIET_MODULES
        return np.array([[s, 0.0, t], [0.0, s, t], [0.0, 0.0, 1.0]])


def read_modules(
    gray: NDArray[np.uint8], to_image: NDArray[np.float64], modules: tuple[int, int]
) -> NDArray[np.bool_]:
    """The module pattern (rows, cols) of the code ``to_image`` maps from module units.

    Each module is the mean of the 3×3 px at its centre (at 4 px per module); the dark
    ones are those below the midpoint between the 10th and 90th percentiles.
    """
    cols, rows = modules
    px = 4
    scale = np.diag([1.0 / px, 1.0 / px, 1.0])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    grid = cv2.warpPerspective(gray, to_image @ scale, (cols * px, rows * px), flags=flags)
    grid = grid.astype(np.float32)
    centres = cv2.blur(grid, (3, 3))[px // 2 :: px, px // 2 :: px]
    low, high = np.percentile(centres, (10, 90))
    return np.asarray(centres < (low + high) / 2, np.bool_)


def refine(
    gray: NDArray[np.uint8],
    to_image: NDArray[np.float64],
    model: CodeModel,
) -> NDArray[np.float64] | None:
    """Refine the module→image homography ``to_image`` (3, 3) of ``gray`` on ``model``.

    Returns the refined homography, or None when ECC does not converge (the frame does
    not show the code where ``to_image`` says).
    """
    warp = (to_image @ model.to_modules()).astype(np.float32)
    warp /= warp[2, 2]
    try:
        _, warp = cv2.findTransformECC(
            model.image, gray, warp, cv2.MOTION_HOMOGRAPHY, _CRITERIA, None, 3
        )
    except cv2.error:
        return None
    return np.asarray(warp.astype(np.float64) @ np.linalg.inv(model.to_modules()), np.float64)
