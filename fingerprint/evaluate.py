"""Accuracy metrics of a verifier from its scores, in the spirit of ISO/IEC 19795-1.

Scores are log-odds: higher means more likely the same item. A pair is accepted when its
score is at or above the threshold; FAR(t) is the share of impostor scores ≥ t and
FRR(t) the share of genuine scores < t. The DET curve plots the two against each other
(Martin et al. 1997). Attacks (print copies) are counted as ISO/IEC 30107-3 counts
presentation attacks: the share accepted at a threshold that keeps genuine rejections
at most a given rate, with an exact binomial bound when few or none are accepted.
"""

from __future__ import annotations

import math
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


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackPoint:
    """How many attacks a threshold accepts, and what it costs the genuine captures.

    ``frr`` is the share of genuine scores below ``threshold``; ``upper`` is the
    one-sided 95% Clopper–Pearson bound on the acceptance rate: with none of n accepted
    it is 1 − 0.05^(1/n) ≈ 3/n (the rule of three).
    """

    threshold: float
    frr: float
    accepted: int
    attacks: int
    upper: float

    @property
    def rate(self) -> float:
        return self.accepted / self.attacks


def attack_point(genuine: Scores, attack: Scores, threshold: float) -> AttackPoint:
    """Attacks accepted at ``threshold`` (scores at or above it), with the FRR there."""
    if len(genuine) == 0 or len(attack) == 0:
        raise ValueError(f"need genuine and attack scores, got {len(genuine)} and {len(attack)}")
    accepted = int(np.sum(attack >= threshold))
    return AttackPoint(
        threshold=threshold,
        frr=1.0 - acceptance(genuine, threshold),
        accepted=accepted,
        attacks=len(attack),
        upper=upper_bound(accepted, len(attack)),
    )


def attack_point_at_frr(genuine: Scores, attack: Scores, max_frr: float) -> AttackPoint:
    """Attacks accepted at the highest threshold that rejects at most ``max_frr`` of
    ``genuine`` (ISO/IEC 30107-3: APCER at a fixed BPCER)."""
    if len(genuine) == 0 or not 0.0 <= max_frr < 1.0:
        raise ValueError(f"need genuine scores and 0 ≤ max_frr < 1, got {len(genuine)}, {max_frr}")
    ordered = np.sort(genuine)
    return attack_point(genuine, attack, float(ordered[math.floor(max_frr * len(ordered))]))


def upper_bound(successes: int, trials: int, confidence: float = 0.95) -> float:
    """One-sided Clopper–Pearson upper confidence bound on a binomial rate.

    The p at which ``successes`` or fewer in ``trials`` has probability 1 − confidence
    (Clopper & Pearson 1934), found by bisection on the binomial CDF.
    """
    if trials < 1 or not 0 <= successes <= trials or not 0.0 < confidence < 1.0:
        raise ValueError(
            f"need 0 ≤ successes ≤ trials, trials ≥ 1, 0 < confidence < 1, got "
            f"{successes}, {trials}, {confidence}"
        )
    if successes == trials:
        return 1.0
    low, high = successes / trials, 1.0
    for _ in range(60):
        mid = 0.5 * (low + high)
        if _binomial_cdf(successes, trials, mid) > 1.0 - confidence:
            low = mid
        else:
            high = mid
    return high


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Binomial(n, p), 0 < p < 1, summed in log space."""
    logs = [
        math.lgamma(n + 1)
        - math.lgamma(i + 1)
        - math.lgamma(n - i + 1)
        + i * math.log(p)
        + (n - i) * math.log1p(-p)
        for i in range(k + 1)
    ]
    top = max(logs)
    return math.exp(top) * sum(math.exp(v - top) for v in logs)


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
