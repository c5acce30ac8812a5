"""Live analysis of synthetic frames, and the auto-capture rule."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from flow_samples import seen

from app.flows.live import INSTRUCTIONS, Steadiness, analyse
from fingerprint.quality import RetakeReason
from fingerprint.synth import Material, Tier, capture, make_item

SIZE = (640, 480)


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    rng = np.random.default_rng(21)
    return capture(make_item(rng, Material.PAPER, 12), rng, Tier.EASY, size=SIZE)


def test_a_good_frame_gives_the_serial_the_window_and_no_instructions(frame: np.ndarray) -> None:
    analysis = analyse(frame)
    assert analysis.serial == "SN100012"
    assert analysis.gtin is not None and len(analysis.gtin) == 14
    assert analysis.ok and analysis.instructions() == ()
    assert analysis.frame_size == SIZE
    assert analysis.code is not None
    for corners in (analysis.window, analysis.code):
        assert corners.shape == (4, 2)
        assert (corners >= 0).all() and (corners[:, 0] < SIZE[0]).all()
    # the default region lies beside the code, not on it
    apart = np.linalg.norm(analysis.window.mean(axis=0) - analysis.code.mean(axis=0))
    assert apart > np.linalg.norm(analysis.code[0] - analysis.code[2]) / 2


def test_a_blurred_frame_says_hold_still(frame: np.ndarray) -> None:
    blurred = cv2.GaussianBlur(frame, (0, 0), 3.0)
    analysis = analyse(blurred)
    assert not analysis.ok
    assert INSTRUCTIONS[RetakeReason.OUT_OF_FOCUS] in analysis.instructions()


def test_an_empty_frame_asks_for_the_code(frame: np.ndarray) -> None:
    analysis = analyse(np.full_like(frame, 128))
    assert analysis.serial is None and analysis.code is None
    assert analysis.instructions()[0] == "show the item's code"
    assert analysis.window.shape == (4, 2)


def test_every_retake_reason_has_an_instruction() -> None:
    assert set(INSTRUCTIONS) == set(RetakeReason)
    assert INSTRUCTIONS[RetakeReason.GLARE] == "glare: tilt the item"
    assert INSTRUCTIONS[RetakeReason.WINDOW_TOO_SMALL] == "move closer"


def test_steadiness_fires_once_after_n_good_frames_of_one_item() -> None:
    steady = Steadiness(3)
    fired = [steady.observe(seen("A")) for _ in range(6)]
    assert fired == [False, False, True, False, False, False]
    assert steady.progress == 1.0


def test_a_bad_frame_restarts_the_count() -> None:
    steady = Steadiness(2)
    frames = [seen("A"), seen("A", RetakeReason.GLARE), seen("A"), seen("A")]
    assert [steady.observe(f) for f in frames] == [False, False, False, True]


def test_the_item_leaving_view_or_another_item_rearms_it() -> None:
    steady = Steadiness(1)
    frames = [seen("A"), seen("A"), seen(None), seen("A"), seen("B"), seen("B")]
    assert [steady.observe(f) for f in frames] == [True, False, False, True, True, False]


def test_steadiness_needs_at_least_one_frame() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Steadiness(0)
