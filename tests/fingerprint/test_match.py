import functools

import cv2
import numpy as np
import pytest

import fingerprint
from fingerprint import Decision, RetakeReason, Template, TemplateFormatError
from fingerprint.features import lbp_log_shares
from fingerprint.match import _band_correlations, _log_snr, compare
from fingerprint.params import FeatureParams, MatchParams
from fingerprint.synth import Tier, capture


def test_genuine_capture_is_genuine(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    again = capture(scene.item, np.random.default_rng(7), Tier.EASY)
    verdict = fingerprint.match(enrolled, fingerprint.extract(again))
    assert verdict.decision == Decision.GENUINE


def test_medium_genuine_capture_is_genuine(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    """This PAPER capture scored +3.5 with the four-octave fusion, a retake under its +3.91
    threshold; with the half-octave spectrum it scores +2.8 against +0.50."""
    verdict = fingerprint.match(enrolled, fingerprint.extract(scene.genuine))
    assert verdict.decision == Decision.GENUINE
    assert verdict.evidence.inliers >= 20
    assert verdict.evidence.coarse > 0.9
    assert verdict.evidence.fine > 0.2


def test_other_item_with_the_same_serial_is_counterfeit(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    verdict = fingerprint.match(enrolled, fingerprint.extract(scene.impostor))
    assert verdict.decision == Decision.COUNTERFEIT
    assert abs(verdict.evidence.fine) < 0.1


def test_print_copy_is_not_accepted(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    verdict = fingerprint.match(enrolled, fingerprint.extract(scene.copy))
    assert verdict.decision != Decision.GENUINE


def test_score_orders_genuine_above_impostor(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    genuine = fingerprint.match(enrolled, fingerprint.extract(scene.genuine)).score
    impostor = fingerprint.match(enrolled, fingerprint.extract(scene.impostor)).score
    assert genuine > impostor + 5


@pytest.mark.parametrize(
    ("sigma", "reason"), [(2.5, RetakeReason.OUT_OF_FOCUS), (8.0, RetakeReason.NO_CODE)]
)
def test_blurred_capture_asks_for_a_retake(
    scene, enrolled: Template, sigma: float, reason: RetakeReason
) -> None:  # type: ignore[no-untyped-def]
    blurred = cv2.GaussianBlur(scene.impostor, (0, 0), sigma)
    verdict = fingerprint.match(enrolled, fingerprint.extract(blurred))
    assert verdict.decision == Decision.RETAKE
    assert reason in {i.reason for i in verdict.issues}


def test_dark_capture_asks_for_a_retake(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    dark = (scene.impostor // 10).astype(np.uint8)
    verdict = fingerprint.match(enrolled, fingerprint.extract(dark))
    assert verdict.decision == Decision.RETAKE
    assert RetakeReason.TOO_DARK in {i.reason for i in verdict.issues}


def test_sixteen_bit_capture_matches_like_eight_bit(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    deep = fingerprint.match(enrolled, fingerprint.extract(scene.genuine.astype(np.uint16) * 257))
    plain = fingerprint.match(enrolled, fingerprint.extract(scene.genuine))
    assert deep.decision == plain.decision
    assert deep.score == pytest.approx(plain.score, abs=0.1)


def test_templates_of_different_parameters_are_refused(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    small = fingerprint.extract(scene.genuine, params=FeatureParams(patch_size=128))
    with pytest.raises(TemplateFormatError, match="different parameters"):
        fingerprint.match(enrolled, small)


def _noise(seed: int, size: int = 256) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(size, size)).astype(np.float32)


def _inner_mask(size: int = 256) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[8:-8, 8:-8] = True
    return mask


def test_a_featureless_frame_is_a_retake_never_genuine(enrolled: Template) -> None:
    blank = fingerprint.extract(np.full((480, 640, 3), 120, np.uint8))
    result = fingerprint.match(enrolled, blank)
    assert np.isfinite(result.score) and result.score < MatchParams().genuine_at
    assert result.decision is Decision.RETAKE


def test_the_texture_term_is_the_reference_s_own(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    # the score offset it sets depends on the enrolment alone, never on what is presented
    genuine = compare(enrolled, fingerprint.extract(scene.genuine))
    copy = compare(enrolled, fingerprint.extract(scene.copy))
    assert genuine.texture == copy.texture == tuple(lbp_log_shares(enrolled.features.lbp))
    assert len(genuine.features) == len(MatchParams().weights)


def test_band_correlations_of_a_residual_with_itself_are_one() -> None:
    residual = _noise(1)
    bands = _band_correlations(residual, residual, _inner_mask(), MatchParams().coherence_bands)
    assert bands.each == pytest.approx((1.0,) * 9, abs=1e-4)
    assert bands.coarse == pytest.approx(1.0, abs=1e-4)


def test_band_correlations_of_independent_residuals_are_near_zero() -> None:
    """The coarsest band holds a dozen Fourier bins: chance correlations reach ±0.3 there."""
    bands = _band_correlations(_noise(1), _noise(2), _inner_mask(), MatchParams().coherence_bands)
    assert abs(bands.each[0]) < 0.4
    assert max(abs(r) for r in bands.each[1:]) < 0.1


def test_a_lowpassed_copy_keeps_the_coarse_bands_and_loses_the_fine() -> None:
    """What a print copy does to an item's texture, and what the band SNRs expose."""
    residual = _noise(1)
    copy = cv2.GaussianBlur(residual, (0, 0), 2.0) + 0.05 * _noise(2)
    bands = _band_correlations(residual, copy, _inner_mask(), MatchParams().coherence_bands)
    assert bands.each[0] > 0.9 > 0.3 > bands.each[-1]
    assert np.all(np.diff(bands.each) < 0.002)  # falls from coarse to fine


def test_the_taper_does_not_leak_coarse_agreement_into_the_fine_bands() -> None:
    """Shared coarse structure, independent fine texture: the fine bands must not
    correlate. A taper with a step at the overlap's edge smeared the coarse bands' power
    along the spectrum's axes up to the finest band (r ≈ 0.2 there for genuine pairs)."""
    coarse = cv2.GaussianBlur(_noise(3), (0, 0), 8.0) * 40
    mask = _inner_mask()
    bands = _band_correlations(
        coarse + _noise(1), coarse + _noise(2), mask, MatchParams().coherence_bands
    )
    assert bands.each[0] > 0.9
    assert max(abs(r) for r in bands.each[-3:]) < 0.05


def test_unexplained_power_is_flat_for_camera_noise_and_not_for_imaged_noise() -> None:
    """Noise added after the optics (a camera's) leaves the unexplained spectrum flat;
    noise imaged through them (a printer's, seen by the camera) raises its coarse end."""
    surface = _noise(1)
    optics = functools.partial(cv2.GaussianBlur, ksize=(0, 0), sigmaX=1.5)
    mask, edges = _inner_mask(), MatchParams().coherence_bands
    camera = _band_correlations(surface, optics(surface) + 0.3 * _noise(2), mask, edges)
    printer = _band_correlations(surface, optics(surface + 0.5 * _noise(2)), mask, edges)
    assert max(abs(u) for u in camera.unexplained) < 1.0
    assert min(printer.unexplained[:4]) > 3.0


def test_log_snr_is_monotonic_and_clipped() -> None:
    snrs = [_log_snr(r) for r in (-0.5, 0.0, 0.3, 0.9, 0.999, 1.0)]
    assert snrs == sorted(snrs)
    assert snrs[0] == snrs[1] == pytest.approx(np.log(1e-3 / (1 - 1e-3)))
    assert np.isfinite(snrs[-1])
