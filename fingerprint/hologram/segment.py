"""Segment the optically variable area (OVD) of the window from its glint map.

A diffractive pixel shines from some angle; ink does not. The glint map
(:mod:`fingerprint.hologram.maps`) is smoothed (Gaussian, σ = 1.5 px), thresholded at
``MapParams.ovd_glint``, and cleaned by a morphological opening then closing (3×3),
which removes isolated noisy pixels and fills pinholes between gratings. The window's
outer ``margin`` is left out: it holds the printed frame and registration's edge effects.
(The MIDV-Holo map, which averages the hue over every frame, stays low where a grating
shone in only one or two frames of a burst: it marked 3–7% of some genuine windows.)
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram.params import MapParams


def segment(glint: NDArray[np.float32], params: MapParams = MapParams()) -> NDArray[np.bool_]:
    """Boolean mask (S, S) of the optically variable area, from the glint map (S, S)."""
    smooth = cv2.GaussianBlur(glint, (0, 0), 1.5)
    mask = (smooth > params.ovd_glint).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    m = params.margin
    mask[:m] = mask[-m:] = 0
    mask[:, :m] = mask[:, -m:] = 0
    return np.asarray(mask, bool)
