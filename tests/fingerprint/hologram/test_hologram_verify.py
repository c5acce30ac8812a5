"""Verdicts on synthetic bursts: genuine, each attack with its own reason, and retakes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fingerprint import Decision
from fingerprint.hologram import (
    HologramReason,
    HologramTemplate,
    extract_hologram,
    match_hologram,
    retake_reasons,
)
from fingerprint.synth import Tier
from fingerprint.synth.hologram_capture import TiltSchedule, burst

Bursts = Any  # conftest.py's Bursts (test folders are not packages)


def verdict_of(enrolled: HologramTemplate, frames: list[np.ndarray]):  # type: ignore[no-untyped-def]
    return match_hologram(enrolled, extract_hologram(frames))


def test_enrolment_burst_is_complete_and_live(enrolled: HologramTemplate) -> None:
    assert enrolled.code_text.startswith("(01)")
    assert enrolled.frames == 12
    assert retake_reasons(enrolled) == ()
    assert enrolled.ovd_share > 0.15


def test_a_new_burst_of_the_item_is_genuine(bursts: Bursts, enrolled: HologramTemplate) -> None:
    verdict = verdict_of(enrolled, bursts.genuine)
    assert verdict.decision == Decision.GENUINE, verdict
    assert verdict.reasons == ()
    assert verdict.liveness.live
    assert verdict.coverage.complete


@pytest.mark.parametrize("attack", ["printed", "screen"])
def test_static_pictures_fail_liveness(
    bursts: Bursts, enrolled: HologramTemplate, attack: str
) -> None:
    """A print and a screen both lack angle-dependent colour; which one it was is named by
    moiré, which is not always visible (see test_liveness.py and docs/hologram.md)."""
    verdict = verdict_of(enrolled, getattr(bursts, attack))
    assert verdict.decision == Decision.COUNTERFEIT, verdict
    assert len(verdict.reasons) == 1
    assert verdict.reasons[0] in (HologramReason.STATIC_COLOURS, HologramReason.SCREEN)
    assert not verdict.liveness.live


def test_generic_film_is_live_but_not_this_item(bursts: Bursts, enrolled: HologramTemplate) -> None:
    verdict = verdict_of(enrolled, bursts.film)
    assert verdict.decision == Decision.COUNTERFEIT, verdict
    assert verdict.reasons == (HologramReason.PATTERN_MISMATCH,), verdict
    assert verdict.liveness.live


def test_another_item_of_the_product_is_not_accepted(
    bursts: Bursts, enrolled: HologramTemplate
) -> None:
    """Same design, its own stamping position and flakes: never genuine; the weakest
    such pairs are retakes (docs/hologram.md gives the rates)."""
    verdict = verdict_of(enrolled, bursts.other)
    assert verdict.decision != Decision.GENUINE, verdict
    assert verdict.reasons[-1] in (HologramReason.PATTERN_MISMATCH, HologramReason.WEAK_EVIDENCE)
    assert verdict.liveness.live


def test_a_burst_held_still_is_a_retake_for_too_few_angles(
    bursts: Bursts, enrolled: HologramTemplate
) -> None:
    frames, (height, width) = len(bursts.enrol), bursts.enrol[0].shape[:2]
    still = TiltSchedule(
        frames=frames,
        tilt_deg=0.0,
        turns=1.0,
        start_deg=0.0,
        light_offset_deg=3.0,
        light_azimuth_deg=0.0,
    )
    frames = burst(
        bursts.item,
        np.random.default_rng(3),
        frames=frames,
        tier=Tier.EASY,
        size=(width, height),
        schedule=still,
    )
    verdict = verdict_of(enrolled, frames)
    assert verdict.decision == Decision.RETAKE
    assert HologramReason.TOO_FEW_ANGLES in verdict.reasons


def test_frames_without_the_code_are_a_retake(enrolled: HologramTemplate) -> None:
    rng = np.random.default_rng(4)
    frames = [rng.integers(0, 256, (360, 480, 3), dtype=np.uint8) for _ in range(12)]
    probe = extract_hologram(frames)
    assert probe.frames == 0
    verdict = match_hologram(enrolled, probe)
    assert verdict.decision == Decision.RETAKE
    assert verdict.reasons[0] == HologramReason.NO_CODE
