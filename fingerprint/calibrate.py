"""Fit the score fusion: logistic regression of same-item against everything else.

The fused score is then a log-odds, as in calibrated biometric score fusion
(Brümmer & du Preez 2006, "Application-independent evaluation of speaker detection"):
``score = bias + weights · features``. Fitted by iteratively reweighted least squares
(Newton's method) with a small ridge penalty, each class weighted to equal total mass so
the log-odds are relative to even prior odds. With ``standardise`` the fit runs on
features scaled to zero mean and unit variance, so that the ridge weighs every feature
alike whatever its units, and the weights are returned in the features' own units.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True, kw_only=True)
class Fusion:
    """Score fusion and the decision thresholds on the fused score."""

    weights: tuple[float, ...]
    bias: float
    genuine_at: float = 0.0
    counterfeit_below: float = 0.0

    def scores(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(features @ np.asarray(self.weights) + self.bias, np.float64)


def fit_fusion(
    features: NDArray[np.float64],
    same: NDArray[np.bool_],
    ridge: float = 1e-3,
    steps: int = 50,
    retake_share: float = 0.03,
    reject_share: float = 0.005,
    *,
    standardise: bool = False,
) -> Fusion:
    """Fit ``Fusion`` to ``features`` (N, K) labelled ``same`` (N,) True for genuine pairs.

    The thresholds are set on the genuine pairs' fused scores: ``genuine_at`` leaves
    ``retake_share`` of them below it (sent to retake or rejected), and
    ``counterfeit_below`` leaves ``reject_share`` (called counterfeit). ``standardise``
    fits on features scaled to unit variance (see the module docstring).
    """
    if features.ndim != 2 or len(features) != len(same):
        raise ValueError(
            f"want features (N, K) and labels (N,), got {features.shape}, {same.shape}"
        )
    positives = int(same.sum())
    if positives == 0 or positives == len(same):
        raise ValueError("need both genuine and non-genuine pairs to fit")
    mean, scale = np.zeros(features.shape[1]), np.ones(features.shape[1])
    if standardise:
        mean, spread = features.mean(axis=0), features.std(axis=0)
        scale = np.where(spread > 0, spread, 1.0)
    x = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    y = same.astype(np.float64)
    mass = np.where(same, 0.5 / positives, 0.5 / (len(same) - positives))
    beta = np.zeros(x.shape[1])
    penalty = ridge * np.eye(x.shape[1])
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -30, 30)))
        gradient = x.T @ (mass * (p - y)) + penalty @ beta
        hessian = (x * (mass * p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-9:
            break
    genuine = (x @ beta)[same]
    weights = beta[:-1] / scale
    return Fusion(
        weights=tuple(float(w) for w in weights),
        bias=float(beta[-1] - weights @ mean),
        genuine_at=float(np.quantile(genuine, retake_share)),
        counterfeit_below=float(np.quantile(genuine, reject_share)),
    )


def thresholds_in_gap(
    fusion: Fusion, genuine: NDArray[np.float64], attacks: NDArray[np.float64]
) -> Fusion:
    """``fusion`` with its thresholds set in the gap between two classes of fused scores.

    ``genuine_at`` lies halfway between the lowest ``genuine`` score and the highest
    ``attacks`` score, the widest margin on both sides; ``counterfeit_below`` at that
    highest attack, so that a score in the lower half of the gap, where the training
    pairs give no evidence either way, is a retake. If the classes overlap, both
    thresholds are the halfway point.
    """
    if not len(genuine) or not len(attacks):
        raise ValueError(f"need genuine and attack scores, got {len(genuine)} and {len(attacks)}")
    lowest, highest = float(np.min(genuine)), float(np.max(attacks))
    middle = (lowest + highest) / 2
    return dataclasses.replace(fusion, genuine_at=middle, counterfeit_below=min(highest, middle))
