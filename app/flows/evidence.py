"""The evidence behind a match, in pictures: both windows aligned, keypoint pairs drawn.

`picture` redoes the cheap part of ``fingerprint.match.compare`` (descriptor matching)
to recover which keypoint pairs it used, and uses the homography it chose to bring the
live window into the enrolled window's frame. Pairs that homography maps within
``MatchParams.ransac_px`` of each other are the inliers the score counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint import Evidence, Template
from fingerprint.features import contrast_normalised
from fingerprint.hamming import match_descriptors
from fingerprint.params import MatchParams


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidencePicture:
    """Two (S, S) uint8 windows in the enrolled window's frame, and keypoint pairs.

    ``enrolled`` and ``live`` are the contrast-normalised noise residuals (the texture
    each fingerprint was made from), ``live`` warped by the match's homography.
    ``pairs`` is (N, 4) float32: ``x, y`` in ``enrolled`` then ``x, y`` in ``live``;
    ``inliers`` (N,) bool marks the pairs the geometry agreed with.
    """

    enrolled: NDArray[np.uint8] = field(repr=False)
    live: NDArray[np.uint8] = field(repr=False)
    pairs: NDArray[np.float32] = field(repr=False)
    inliers: NDArray[np.bool_] = field(repr=False)

    def __post_init__(self) -> None:
        for array in (self.enrolled, self.live, self.pairs, self.inliers):
            array.flags.writeable = False

    @property
    def inlier_count(self) -> int:
        """Pairs the geometry agreed with."""
        return int(self.inliers.sum())


def picture(
    reference: Template, probe: Template, evidence: Evidence, params: MatchParams = MatchParams()
) -> EvidencePicture:
    """The aligned windows and keypoint pairs of ``probe`` matched against ``reference``."""
    ref, pro = reference.features, probe.features
    size = reference.patch_size
    live = cv2.warpPerspective(
        contrast_normalised(pro.residual),
        evidence.homography,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderValue=0,
    )
    q_idx, t_idx, _ = match_descriptors(pro.descriptors, ref.descriptors, params.ratio)
    enrolled_points = ref.keypoints[t_idx].astype(np.float32).reshape(-1, 2)
    live_points = _transform(pro.keypoints[q_idx].reshape(-1, 2), evidence.homography)
    error = np.linalg.norm(enrolled_points - live_points, axis=1)
    inliers = (error <= params.ransac_px) & (evidence.inliers > 0)
    return EvidencePicture(
        enrolled=contrast_normalised(ref.residual),
        live=np.asarray(live, np.uint8),
        pairs=np.hstack([enrolled_points, live_points]).astype(np.float32),
        inliers=np.asarray(inliers, np.bool_),
    )


def _transform(points: NDArray[np.float32], homography: NDArray[np.float64]) -> NDArray[np.float32]:
    if len(points) == 0:
        return np.zeros((0, 2), np.float32)
    moved = cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), homography)
    return np.asarray(moved, np.float32).reshape(-1, 2)
