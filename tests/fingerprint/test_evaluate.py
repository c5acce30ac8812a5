import numpy as np
import pytest

from fingerprint.evaluate import acceptance, det_curve, equal_error_rate, frr_at_far


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
