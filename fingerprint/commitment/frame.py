"""The printed code's frame to a fraction of a pixel: where a commitment's window lies.

zxing-cpp's four corners place the fingerprint window only to within several pixels:
on synthetic MEDIUM captures, against the true pose, the worst point of the 256-px
window lay 3.6 px off on average and up to 13 px (docs/commitment.md), enough to scramble
the phase of the texture a commitment reads. A commitment stores nothing of the surface
to align to, but the symbol is a precise and public target: its modules are read at the
corners' estimate, drawn as an ideal symbol inside its quiet zone, and the homography is
refined to maximise the enhanced correlation coefficient between the drawing and the
image (ECC, Evangelidis and Psarakis 2008 [1]_, with `cv2.findTransformECC`). Measured
the same way: 0.5 px on average, at most 1.2 px. Reading the modules from the image,
rather than re-encoding the decoded text, keeps this independent of the encoder that
printed the symbol.

References
----------
.. [1] G. D. Evangelidis and E. Z. Psarakis, "Parametric image alignment using enhanced
   correlation coefficient maximization", IEEE TPAMI 30(10), 2008.
   :DOI:`10.1109/TPAMI.2008.113`
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.commitment.params import PATCH_SIZE, FrameParams
from fingerprint.locate import ItemCode, module_homography, read_code, window_at
from fingerprint.quality import QualityIssue, RetakeReason
from fingerprint.region import RegionSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class Framed:
    """The window (S, S) uint8 cut at the refined frame, and how well the frame was measured.

    ``correlation`` is the ECC coefficient reached (1: the drawing matches the image
    exactly); ``shift_modules`` how far refining moved the window's corners from zxing's
    estimate, in code modules; ``contrast`` the grey levels between the code's light and
    dark modules (medians at the module centres), the capture's scale for the
    surface's texture level (`fingerprint.commitment.copy_evidence`).
    """

    patch: NDArray[np.uint8] = field(repr=False)
    correlation: float
    shift_modules: float
    contrast: float

    def __post_init__(self) -> None:
        self.patch.flags.writeable = False

    def issues(self, params: FrameParams = FrameParams()) -> tuple[QualityIssue, ...]:
        """A `RetakeReason.NO_CODE` issue when the frame cannot be trusted, else none."""
        if self.correlation < params.min_correlation:
            return (_no_code(self.correlation, params.min_correlation),)
        if self.shift_modules > params.max_shift_modules:
            return (_no_code(self.shift_modules, params.max_shift_modules),)
        return ()


def frame_window(
    gray: NDArray[np.uint8], region: RegionSpec = RegionSpec(), params: FrameParams = FrameParams()
) -> Framed | None:
    """The window of ``gray`` (H, W) at the code's refined frame; None without a code.

    Also None when the refinement does not converge.
    """
    code = read_code(gray)
    if code is None:
        return None
    coarse = module_homography(code)
    refined = refine(gray, code, coarse, params)
    if refined is None:
        return None
    fine, correlation = refined
    corners = region.corners()
    moved = _apply(np.linalg.inv(coarse) @ fine, corners) - corners
    values = _module_values(gray, fine, *code.modules)
    dark = _dark(values)
    return Framed(
        patch=window_at(gray, code, fine, region, PATCH_SIZE).patch,
        correlation=correlation,
        shift_modules=float(np.linalg.norm(moved, axis=1).max()),
        contrast=float(np.median(values[~dark]) - np.median(values[dark])),
    )


def refine(
    gray: NDArray[np.uint8],
    code: ItemCode,
    coarse: NDArray[np.float64],
    params: FrameParams = FrameParams(),
) -> tuple[NDArray[np.float64], float] | None:
    """The homography (3, 3) from module units to ``gray``'s pixels, and its ECC coefficient.

    Starts from ``coarse`` (zxing's corners); None if ECC does not converge.
    """
    cols, rows = code.modules
    dark = _dark(_module_values(gray, coarse, cols, rows)).reshape(rows, cols)
    drawing = _drawing(dark, params)
    ppm, quiet = params.px_per_module, params.quiet_modules
    # drawing pixel centres at integers → module units
    to_modules = np.array(
        [[1 / ppm, 0, 0.5 / ppm - quiet], [0, 1 / ppm, 0.5 / ppm - quiet], [0, 0, 1]]
    )
    start = coarse @ to_modules
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, params.iterations, 1e-6)
    try:
        correlation, warp = cv2.findTransformECC(
            drawing,
            gray.astype(np.float32),
            (start / start[2, 2]).astype(np.float32),
            cv2.MOTION_HOMOGRAPHY,
            criteria,
            None,
            5,
        )
    except cv2.error:
        return None
    fine = warp.astype(np.float64) @ np.linalg.inv(to_modules)
    return fine / fine[2, 2], float(correlation)


def _module_values(
    gray: NDArray[np.uint8], to_image: NDArray[np.float64], cols: int, rows: int
) -> NDArray[np.float32]:
    """The smoothed image at each module's centre (rows · cols,), row by row."""
    centres = np.array([[x + 0.5, y + 0.5] for y in range(rows) for x in range(cols)])
    points = _apply(to_image, centres).astype(np.float32)
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.0).astype(np.float32)
    return np.asarray(cv2.remap(smooth, points[:, :1], points[:, 1:], cv2.INTER_LINEAR)[:, 0])


def _dark(values: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Which module values are dark: below mid-grey between their 10th and 90th percentile."""
    middle = (np.percentile(values, 10) + np.percentile(values, 90)) / 2
    return np.asarray(values < middle)


def _drawing(dark: NDArray[np.bool_], params: FrameParams) -> NDArray[np.float32]:
    """The ideal symbol inside its quiet zone, ``px_per_module`` px per module, softened."""
    ppm, quiet = params.px_per_module, params.quiet_modules
    padded = np.pad(~dark, quiet, constant_values=True).astype(np.float32) * 255
    big = np.kron(padded, np.ones((ppm, ppm), np.float32))
    return np.asarray(cv2.GaussianBlur(big, (0, 0), 0.1875 * ppm), np.float32)


def _apply(h: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    out = cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), h)
    return np.asarray(out, np.float64).reshape(-1, 2)


def _no_code(value: float, threshold: float) -> QualityIssue:
    return QualityIssue(reason=RetakeReason.NO_CODE, value=value, threshold=threshold)
