"""Accuracy metrics of a verifier from its scores, in the spirit of ISO/IEC 19795-1.

Scores are log-odds: higher means more likely the same item. A pair is accepted when its
score is at or above the threshold; FAR(t) is the share of impostor scores ≥ t and
FRR(t) the share of genuine scores < t. The DET curve plots the two against each other
(Martin et al. 1997).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Scores = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatingPoint:
    """FRR at the lowest threshold whose FAR is at most ``target_far``.

    ``resolved`` is False when there are too few impostor scores to measure a FAR that
    small (fewer than 1/target_far): the point then assumes FAR = 0 above the highest
    impostor score and is only an optimistic bound.
    """

    target_far: float
    threshold: float
    frr: float
    resolved: bool


def det_curve(genuine: Scores, impostor: Scores) -> tuple[Scores, Scores, Scores]:
    """(thresholds, FAR, FRR) at every distinct score, thresholds ascending."""
    _check(genuine, impostor)
    thresholds = np.unique(np.concatenate([genuine, impostor]))
    thresholds = np.append(thresholds, np.inf)
    g, i = np.sort(genuine), np.sort(impostor)
    frr = np.searchsorted(g, thresholds, side="left") / len(g)
    far = (len(i) - np.searchsorted(i, thresholds, side="left")) / len(i)
    return thresholds, far, frr


def equal_error_rate(genuine: Scores, impostor: Scores) -> tuple[float, float]:
    """(EER, threshold): the least max(FAR, FRR) over all thresholds, and where it is."""
    thresholds, far, frr = det_curve(genuine, impostor)
    worst = np.maximum(far, frr)
    k = int(np.argmin(worst))
    return float(worst[k]), float(thresholds[k])


def frr_at_far(genuine: Scores, impostor: Scores, target_far: float) -> OperatingPoint:
    """The operating point with FAR ≤ ``target_far`` and the least FRR."""
    thresholds, far, frr = det_curve(genuine, impostor)
    k = int(np.argmax(far <= target_far))
    threshold = float(thresholds[k])
    if not np.isfinite(threshold):
        threshold = float(np.max(impostor)) + 1e-9
    return OperatingPoint(
        target_far=target_far,
        threshold=threshold,
        frr=float(frr[k]),
        resolved=len(impostor) * target_far >= 1.0,
    )


def acceptance(scores: Scores, threshold: float) -> float:
    """Share of ``scores`` at or above ``threshold`` (0 for no scores)."""
    return float(np.mean(scores >= threshold)) if len(scores) else 0.0


def _check(genuine: Scores, impostor: Scores) -> None:
    if len(genuine) == 0 or len(impostor) == 0:
        raise ValueError(
            f"need genuine and impostor scores, got {len(genuine)} and {len(impostor)}"
        )
    if not (np.all(np.isfinite(genuine)) and np.all(np.isfinite(impostor))):
        raise ValueError("scores must be finite")
