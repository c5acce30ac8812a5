import cv2
import numpy as np
import pytest

import fingerprint
from fingerprint import Decision, RetakeReason, Template, TemplateFormatError
from fingerprint.params import FeatureParams


def test_genuine_capture_is_genuine(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    verdict = fingerprint.match(enrolled, fingerprint.extract(scene.genuine))
    assert verdict.decision == Decision.GENUINE
    assert verdict.evidence.inliers >= 20
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
    deep = scene.genuine.astype(np.uint16) * 257
    assert fingerprint.match(enrolled, fingerprint.extract(deep)).decision == Decision.GENUINE


def test_templates_of_different_parameters_are_refused(scene, enrolled: Template) -> None:  # type: ignore[no-untyped-def]
    small = fingerprint.extract(scene.genuine, params=FeatureParams(patch_size=128))
    with pytest.raises(TemplateFormatError, match="different parameters"):
        fingerprint.match(enrolled, small)
