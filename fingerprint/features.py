"""What a rectified window is described by.

- ORB keypoints and binary descriptors (Rublee et al. 2011, OpenCV's detector), used to
  align two captures of the same window;
- multi-scale uniform LBP histograms over a grid of cells (Ojala et al. 2002), the
  texture statistics of the material, which ``lbp_log_shares`` pools over the window;
- the high-pass noise residual, the window minus its Gaussian blur, which carries the
  item's own microstructure (as in camera fingerprinting, Lukáš et al. 2006).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.errors import TemplateFormatError
from fingerprint.lbp import lbp_histograms
from fingerprint.params import FeatureParams

RESIDUAL_UNIT = 32.0
"""The residual is stored as int8 in units of 1/32 of its own standard deviation."""

LBP_SHARE_FLOOR = 1e-4
"""Shares of LBP codes are floored here before the log (a window has 65,536 pixels)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Features:
    """Features of one (S, S) window patch.

    keypoints: (N, 2) float32 patch coordinates; descriptors: (N, 32) uint8;
    lbp: (cells, bins) uint16 histograms; residual: (S, S) int8.
    """

    keypoints: NDArray[np.float32] = field(repr=False)
    descriptors: NDArray[np.uint8] = field(repr=False)
    lbp: NDArray[np.uint16] = field(repr=False)
    residual: NDArray[np.int8] = field(repr=False)

    def __post_init__(self) -> None:
        for array in (self.keypoints, self.descriptors, self.lbp, self.residual):
            array.flags.writeable = False


def describe(patch: NDArray[np.uint8], p: FeatureParams = FeatureParams()) -> Features:
    """Describe a rectified window patch (S, S) uint8."""
    high = residual(patch, p.residual_sigma)
    keypoints, descriptors = orb(contrast_normalised(high), p)
    return Features(
        keypoints=keypoints,
        descriptors=descriptors,
        lbp=lbp_histograms(patch, scales=p.lbp_scales, grid=p.lbp_grid),
        residual=high,
    )


def lbp_log_shares(
    lbp: NDArray[np.uint16], scales: tuple[tuple[int, float], ...] = FeatureParams().lbp_scales
) -> NDArray[np.float64]:
    """Log share of each uniform LBP code over the whole window, scale by scale.

    ``lbp`` (cells, Σ(P + 2)) holds one block of P + 2 code counts per scale in
    ``scales`` (see ``lbp.lbp_histograms``); the cells are pooled and each block divided
    by its total, floored at ``LBP_SHARE_FLOOR``, then logged (the log-ratio view of a
    composition, Aitchison 1982). Returns (Σ(P + 2),) float64: which micro-patterns
    (spots, edges, flats, noise) the surface is made of, whatever its brightness.

    Raises
    ------
    TemplateFormatError
        If the histograms' width does not match ``scales`` (a template made with other
        LBP scales).
    """
    blocks = np.cumsum([0] + [p + 2 for p, _ in scales])
    if lbp.ndim != 2 or lbp.shape[1] != blocks[-1]:
        raise TemplateFormatError(
            f"want LBP histograms (cells, {blocks[-1]}) for scales {scales}, got {lbp.shape}"
        )
    counts = lbp.sum(axis=0, dtype=np.float64)
    shares = [block / max(block.sum(), 1.0) for block in np.split(counts, blocks[1:-1])]
    return np.asarray(np.log(np.maximum(np.concatenate(shares), LBP_SHARE_FLOOR)), np.float64)


def contrast_normalised(high: NDArray[np.int8]) -> NDArray[np.uint8]:
    """The residual as an 8-bit image of fixed contrast (std 24 around 128).

    ORB's FAST threshold is absolute, so faint textures (white paper) would give no
    keypoints on the raw patch; on this image every material gets its share.
    """
    return np.clip(high.astype(np.int16) * 3 // 4 + 128, 0, 255).astype(np.uint8)


def orb(
    image: NDArray[np.uint8], p: FeatureParams = FeatureParams()
) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """ORB keypoints (N, 2) and descriptors (N, 32) of an (S, S) image, strongest first."""
    detector = cv2.ORB.create(
        nfeatures=p.orb_features,
        scaleFactor=1.2,
        nlevels=4,
        edgeThreshold=16,
        patchSize=31,
        fastThreshold=p.orb_fast_threshold,
    )
    points, descriptors = detector.detectAndCompute(image, None)
    if descriptors is None or not points:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    xy = np.array([kp.pt for kp in points], dtype=np.float32).reshape(-1, 2)
    return xy, np.ascontiguousarray(descriptors, dtype=np.uint8)


def residual(patch: NDArray[np.uint8], sigma: float) -> NDArray[np.int8]:
    """High-pass residual (S, S) int8: patch minus its blur, in ``RESIDUAL_UNIT`` per std."""
    values = patch.astype(np.float32)
    high = values - np.asarray(cv2.GaussianBlur(values, (0, 0), sigma), np.float32)
    scale = float(np.std(high))
    if scale < 1e-6:
        return np.zeros(patch.shape, np.int8)
    quantised = np.clip(np.rint(high * (RESIDUAL_UNIT / scale)), -127, 127)
    return np.asarray(quantised, dtype=np.int8)
