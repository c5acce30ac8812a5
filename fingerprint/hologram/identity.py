"""Identity: is the live hologram the enrolled one, not just any hologram?

Both maps are in the code's frame, so the foil's design, where it was stamped and its
flakes land on the same patch pixels in every burst of the item. Measured:

1. the normalised cross-correlation of the chromatic edge maps (smoothed, σ = 1 px),
   the best over shifts of up to ``SEARCH_PX`` (registration error), on the window's
   inner part;
2. ORB keypoints of the edge maps matched by Hamming distance (ratio test and
   cross-check) whose positions agree to ``AGREE_PX``: a stamping error of a module or
   two moves every keypoint, so no homography is fitted.

A logistic fusion (``IdentityParams``; fitted with :func:`fingerprint.calibrate.fit_fusion`)
turns them into the log-odds of "same hologram".
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.errors import TemplateFormatError
from fingerprint.features import orb
from fingerprint.hamming import match_descriptors
from fingerprint.hologram.params import IdentityParams
from fingerprint.hologram.template import HologramTemplate
from fingerprint.params import FeatureParams

SEARCH_PX = 2
AGREE_PX = 3.0
MARGIN_PX = 6
_ORB = FeatureParams(orb_features=300, orb_fast_threshold=10)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityEvidence:
    """``edges``: correlation of the edge maps (−1–1); ``agreeing``: keypoint matches in
    place, of ``matches``; ``shift``: the (dx, dy) px the live map was moved by to fit best."""

    edges: float
    matches: int
    agreeing: int
    shift: tuple[int, int]

    @property
    def features(self) -> tuple[float, ...]:
        """Fusion inputs in ``IdentityParams.weights`` order: Fisher z of the edge
        correlation and log(1 + agreeing keypoints)."""
        return (_fisher_z(self.edges), float(np.log1p(self.agreeing)))


def edge_keypoints(edges: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """ORB keypoints (N, 2) and descriptors (N, 32) of a chromatic edge map (S, S)."""
    top = float(np.percentile(edges, 99.5))
    image = np.clip(edges * np.float32(255 / top), 0, 255) if top > 0 else np.zeros_like(edges)
    return orb(np.ascontiguousarray(image, np.uint8), _ORB)


def compare(reference: HologramTemplate, probe: HologramTemplate) -> IdentityEvidence:
    """Measure how well ``probe``'s maps agree with ``reference``'s."""
    if reference.patch_size != probe.patch_size:
        raise TemplateFormatError(
            f"hologram templates of different patch sizes: {reference.patch_size} "
            f"vs {probe.patch_size}"
        )
    ref_edges = cv2.GaussianBlur(reference.edge_map(), (0, 0), 1.0)
    pro_edges = cv2.GaussianBlur(probe.edge_map(), (0, 0), 1.0)
    edges, shift = _best_shift(ref_edges, pro_edges)
    q, t, _ = match_descriptors(probe.descriptors, reference.descriptors, 0.85)
    apart = np.linalg.norm(probe.keypoints[q] - reference.keypoints[t], axis=1)
    return IdentityEvidence(
        edges=edges,
        matches=len(q),
        agreeing=int(np.sum(apart <= AGREE_PX)),
        shift=shift,
    )


def score_of(evidence: IdentityEvidence, params: IdentityParams = IdentityParams()) -> float:
    """Fused log-odds that both templates show the same hologram."""
    return float(params.bias + np.dot(params.weights, evidence.features))


def _best_shift(
    reference: NDArray[np.float32], probe: NDArray[np.float32]
) -> tuple[float, tuple[int, int]]:
    """Highest correlation of ``probe``'s inner part over ``reference`` within ±SEARCH_PX."""
    m, s = MARGIN_PX, SEARCH_PX
    inner = probe[m:-m, m:-m]
    search = reference[m - s : reference.shape[0] - m + s, m - s : reference.shape[1] - m + s]
    if float(np.std(inner)) < 1e-9 or float(np.std(search)) < 1e-9:
        return 0.0, (0, 0)
    scores = cv2.matchTemplate(search, inner, cv2.TM_CCOEFF_NORMED)
    _, best, _, (x, y) = cv2.minMaxLoc(scores)
    return float(best), (x - s, y - s)


def _fisher_z(r: float) -> float:
    return float(np.arctanh(np.clip(r, -0.995, 0.995)))
