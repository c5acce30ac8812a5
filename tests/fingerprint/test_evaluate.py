import numpy as np
import pytest

from fingerprint.evaluate import (
    acceptance,
    attack_point,
    attack_point_at_frr,
    det_curve,
    equal_error_rate,
    frr_at_far,
    upper_bound,
)


def test_separated_scores_have_zero_error() -> None:
    genuine = np.array([5.0, 6.0, 7.0])
    impostor = np.array([-3.0, -2.0, 0.0, 1.0])
    eer, threshold = equal_error_rate(genuine, impostor)
    assert eer == 0.0
    assert 1.0 < threshold <= 5.0
    point = frr_at_far(genuine, impostor, 1e-3)
    assert point.frr == 0.0
    assert not point.resolved  # four impostors cannot resolve a FAR of 1e-3


def test_overlapping_scores() -> None:
    genuine = np.array([0.0, 1.0, 2.0, 3.0])
    impostor = np.array([-1.0, 0.5, 1.5, 2.5])
    _, far, frr = det_curve(genuine, impostor)
    assert np.all(np.diff(far) <= 0) and np.all(np.diff(frr) >= 0)
    eer, _ = equal_error_rate(genuine, impostor)
    assert eer == pytest.approx(0.5)


def test_frr_at_far_picks_the_lowest_threshold_meeting_the_target() -> None:
    rng = np.random.default_rng(1)
    genuine = rng.normal(3, 1, 2000)
    impostor = rng.normal(0, 1, 20000)
    point = frr_at_far(genuine, impostor, 1e-3)
    assert point.resolved
    assert acceptance(impostor, point.threshold) <= 1e-3
    scores = np.concatenate([genuine, impostor])
    below = np.max(scores[scores < point.threshold])
    assert acceptance(impostor, below) > 1e-3
    assert point.frr == pytest.approx(1 - acceptance(genuine, point.threshold))


def test_refuses_empty_or_non_finite() -> None:
    with pytest.raises(ValueError, match="need genuine and impostor"):
        equal_error_rate(np.array([]), np.array([1.0]))
    with pytest.raises(ValueError, match="finite"):
        equal_error_rate(np.array([np.nan]), np.array([1.0]))


def test_upper_bound_is_the_rule_of_three_for_no_successes() -> None:
    assert upper_bound(0, 3000) == pytest.approx(1 - 0.05 ** (1 / 3000), rel=1e-9)
    assert upper_bound(0, 3000) < 1e-3  # 3,000 clean copies bound the rate below 0.1%
    assert upper_bound(0, 2000) > 1e-3


@pytest.mark.parametrize(
    ("k", "n", "want"), [(1, 100, 0.046559811), (5, 50, 0.198833), (7, 7, 1.0)]
)
def test_upper_bound_matches_the_beta_quantile(k: int, n: int, want: float) -> None:
    """Reference values: scipy.stats.beta.ppf(0.95, k + 1, n - k)."""
    assert upper_bound(k, n) == pytest.approx(want, abs=1e-6)


def test_upper_bound_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="successes ≤ trials"):
        upper_bound(3, 2)


def test_attack_point_at_frr_keeps_genuine_rejections_within_the_limit() -> None:
    genuine = np.arange(100, dtype=np.float64)  # 0 … 99
    attack = np.array([-5.0, 0.5, 1.0, 1.5, 50.0])
    point = attack_point_at_frr(genuine, attack, 0.01)
    assert point.threshold == 1.0 and point.frr == pytest.approx(0.01)
    assert (point.accepted, point.attacks) == (3, 5)
    assert point.rate == pytest.approx(0.6)
    assert point.upper == pytest.approx(upper_bound(3, 5))
    assert attack_point_at_frr(genuine, attack, 0.0).threshold == 0.0
    assert attack_point(genuine, attack, 60.0).accepted == 0
