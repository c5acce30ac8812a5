"""The print-copy check: texture level, screen peak, coarse flips, score and decision."""

from __future__ import annotations

import numpy as np
import pytest

from fingerprint import Decision
from fingerprint.commitment import (
    CommitmentParams,
    CopyEvidence,
    CopyParams,
    commit,
    commit_to,
    copy_score,
    decide,
    examine,
    open_commitment,
    open_with,
    screen_peak,
)
from fingerprint.commitment.code import band_size, enrol, wavelengths
from fingerprint.commitment.copy_evidence import coarse_flips
from fingerprint.commitment.texture import LEVEL_STEP, enrolled_level, quantise, texture_level

PARAMS = CommitmentParams()
COPY = CopyParams()
SIDE = np.arange(256, dtype=np.float64)


def _noise(seed: int, scale: float = 20.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(128, scale, (256, 256))


def _uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def test_texture_level_is_the_band_rms_in_units_of_the_code_contrast() -> None:
    wavelength = 256 / 18  # 14.2 px, 18 whole cycles: all of its power in the coarse band
    grating = 128 + 20 * np.cos(2 * np.pi * SIDE / wavelength)[None, :].repeat(256, 0)
    rms = 20 / np.sqrt(2)
    assert texture_level(_uint8(grating), 160.0) == pytest.approx(np.log(rms / 160), abs=0.01)
    brighter = 128 + 2 * (grating - 128)  # a capture of twice the contrast, code included
    assert texture_level(_uint8(brighter), 320.0) == pytest.approx(
        texture_level(_uint8(grating), 160.0), abs=0.01
    )
    finer = 128 + 20 * np.cos(2 * np.pi * SIDE * 32 / 256)[None, :].repeat(256, 0)  # 8 px
    with pytest.raises(ValueError, match="no texture in the coarse band"):
        texture_level(_uint8(finer), 160.0)


def test_texture_level_refuses_what_it_cannot_measure() -> None:
    with pytest.raises(ValueError, match="contrast > 0"):
        texture_level(_uint8(_noise(0)), 0.0)
    with pytest.raises(ValueError, match=r"\(256, 256\) uint8"):
        texture_level(np.zeros((64, 64), np.uint8), 150.0)


def test_the_enrolled_level_is_the_mean_on_the_stored_grid() -> None:
    assert enrolled_level([-3.0, -3.1]) == quantise(-3.05) == -98 * LEVEL_STEP
    assert quantise(0.5) == 0.0 and quantise(-20.0) == -255 * LEVEL_STEP
    with pytest.raises(ValueError, match="at least one"):
        enrolled_level([])


def test_a_halftone_screen_stands_out_of_a_texture() -> None:
    texture = _noise(1)
    y, x = np.mgrid[0:256, 0:256]
    angle, cell = np.deg2rad(30), 9.0  # a 9-px screen at 30°: peaks at 6.4 px
    u, v = x * np.cos(angle) + y * np.sin(angle), -x * np.sin(angle) + y * np.cos(angle)
    screen = 15 * np.cos(2 * np.pi * u / cell) * np.cos(2 * np.pi * v / cell)
    assert screen_peak(_uint8(texture)) < 7  # white noise: about 3–6
    assert screen_peak(_uint8(texture + screen)) > 18
    finer = 15 * np.cos(2 * np.pi * x / 3.0)  # outside the screen band (4.5–9 px)
    assert screen_peak(_uint8(texture + finer)) < 7


def test_only_coarse_flips_are_counted() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(size=band_size(7, 16)).astype(np.float32)
    commitment, _ = commit(enrol([values]), PARAMS, level=-3.0)
    each = wavelengths(7, 16)[commitment.mask]
    coarse = (each >= 12) & (each <= 16)
    flipped = np.zeros(PARAMS.code_bits, bool)
    flipped[np.flatnonzero(coarse)[:5]] = True
    flipped[np.flatnonzero(~coarse)[:40]] = True
    assert coarse_flips(flipped, commitment.mask, PARAMS) == (5, int(coarse.sum()))
    assert 0.15 * PARAMS.code_bits < coarse.sum() < 0.5 * PARAMS.code_bits


def test_evidence_needs_an_opening_and_scores_flips_and_screens_as_copies() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=band_size(7, 16)).astype(np.float32)
    commitment, _ = commit(enrol([values]), PARAMS, level=-3.0)
    with pytest.raises(ValueError, match="opened the commitment"):
        examine(commitment, open_commitment(commitment, -values), 5.0)
    clean = examine(commitment, open_commitment(commitment, values), 5.0)
    assert clean.flipped == 0 and clean.enrolled_level == -3.0
    flips = CopyEvidence(flipped=20, compared=clean.compared, screen_peak=5.0, enrolled_level=-3.0)
    screened = CopyEvidence(flipped=0, compared=clean.compared, screen_peak=60, enrolled_level=-3.0)
    assert copy_score(flips) < copy_score(clean) and copy_score(screened) < copy_score(clean)
    with pytest.raises(ValueError, match="flipped ≤ compared"):
        CopyEvidence(flipped=3, compared=2, screen_peak=5.0, enrolled_level=-3.0)


def test_the_decision_is_three_way() -> None:
    limits = CopyParams(genuine_at=1.0, counterfeit_below=-1.0)
    assert decide(1.0, limits) is Decision.GENUINE
    assert decide(0.0, limits) is Decision.RETAKE
    assert decide(-1.5, limits) is Decision.COUNTERFEIT
    with pytest.raises(ValueError, match="counterfeit_below ≤ genuine_at"):
        CopyParams(genuine_at=-1.0, counterfeit_below=1.0)
    with pytest.raises(ValueError, match="3 weights"):
        CopyParams(weights=(1.0, 2.0))


def test_a_new_capture_of_the_item_passes_the_copy_check(windows) -> None:  # conftest
    commitment, _ = commit_to(windows.enrol)
    opening = open_with(commitment, windows.genuine)
    evidence = examine(commitment, opening, screen_peak(windows.genuine))
    assert decide(copy_score(evidence)) is Decision.GENUINE
