import numpy as np
import pytest

from fingerprint.calibrate import fit_fusion, thresholds_in_gap


def test_recovers_a_known_log_odds_model() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 2))
    true_w, true_b = np.array([2.0, -1.0]), 0.5
    p = 1 / (1 + np.exp(-(x @ true_w + true_b)))
    same = rng.random(len(x)) < p
    fusion = fit_fusion(x, same, ridge=0.0)
    # class balancing shifts only the bias, by the log of the class ratio
    prior = np.log(same.mean() / (1 - same.mean()))
    assert fusion.weights == pytest.approx(tuple(true_w), abs=0.1)
    assert fusion.bias + prior == pytest.approx(true_b, abs=0.1)


def test_separable_classes_stay_finite() -> None:
    x = np.array([[0.0], [0.1], [0.9], [1.0]])
    fusion = fit_fusion(x, np.array([False, False, True, True]))
    assert all(np.isfinite(fusion.weights)) and np.isfinite(fusion.bias)
    assert fusion.weights[0] > 0


def test_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        fit_fusion(np.zeros((3, 1)), np.array([True, True, True]))


def test_thresholds_leave_the_asked_share_of_genuine_pairs_below() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(2, 1, (4000, 1)), rng.normal(-2, 1, (4000, 1))])
    same = np.arange(len(x)) < 4000
    fusion = fit_fusion(x, same, retake_share=0.05, reject_share=0.01)
    genuine = fusion.scores(x[same])
    assert np.mean(genuine < fusion.genuine_at) == pytest.approx(0.05, abs=0.002)
    assert np.mean(genuine < fusion.counterfeit_below) == pytest.approx(0.01, abs=0.002)
    assert fusion.counterfeit_below < fusion.genuine_at


def test_standardised_fit_does_not_depend_on_the_features_units() -> None:
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(1, 1, (500, 2)), rng.normal(-1, 1, (500, 2))])
    same = np.arange(len(x)) < 500
    scaled = x * np.array([1000.0, 0.001])
    plain = fit_fusion(x, same, ridge=0.1, standardise=True)
    rescaled = fit_fusion(scaled, same, ridge=0.1, standardise=True)
    np.testing.assert_allclose(plain.scores(x), rescaled.scores(scaled), atol=1e-9)
    unscaled = fit_fusion(scaled, same, ridge=0.1)
    assert not np.allclose(plain.scores(x), unscaled.scores(scaled), atol=1e-3)


def test_thresholds_sit_in_the_gap_between_the_classes() -> None:
    fusion = fit_fusion(np.array([[0.0], [1.0]]), np.array([False, True]))
    placed = thresholds_in_gap(fusion, np.array([2.0, 5.0]), np.array([-3.0, -1.0]))
    assert placed.genuine_at == pytest.approx(0.5)
    assert placed.counterfeit_below == pytest.approx(-1.0)
    assert placed.weights == fusion.weights and placed.bias == fusion.bias


def test_overlapping_classes_get_one_threshold_and_no_retake_band() -> None:
    fusion = fit_fusion(np.array([[0.0], [1.0]]), np.array([False, True]))
    placed = thresholds_in_gap(fusion, np.array([0.0, 5.0]), np.array([-3.0, 2.0]))
    assert placed.genuine_at == placed.counterfeit_below == pytest.approx(1.0)
    with pytest.raises(ValueError, match="attack"):
        thresholds_in_gap(fusion, np.array([1.0]), np.array([]))
