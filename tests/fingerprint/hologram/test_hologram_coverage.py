"""Tilt coverage: which directions a burst has seen."""

from __future__ import annotations

import numpy as np

from fingerprint.hologram import coverage_of, tilt_coverage
from fingerprint.hologram.params import CoverageParams


def tilts(degrees: list[float], tilt_deg: float = 15.0) -> np.ndarray:
    angle = np.deg2rad(np.asarray(degrees))
    return np.sin(np.deg2rad(tilt_deg)) * np.c_[np.cos(angle), np.sin(angle)]


def test_a_full_circle_is_complete() -> None:
    coverage = coverage_of(tilts(list(range(0, 360, 30))))
    assert coverage.covered == 8
    assert coverage.complete
    assert coverage.progress == 1.0
    assert coverage.missing == ()
    assert round(coverage.max_tilt_deg) == 15


def test_missing_directions_are_named_and_progress_is_partial() -> None:
    coverage = coverage_of(tilts([0, 90, 100]))
    assert coverage.sectors == (True, False, True, False, False, False, False, False)
    assert coverage.missing == (
        "lower right",
        "lower left",
        "left",
        "upper left",
        "top",
        "upper right",
    )
    assert coverage.progress == 2 / 5
    assert not coverage.complete


def test_views_close_to_head_on_cover_nothing() -> None:
    coverage = coverage_of(tilts(list(range(0, 360, 30)), tilt_deg=3.0))
    assert coverage.covered == 0
    assert coverage_of(np.zeros((0, 2))).covered == 0


def test_sector_count_is_a_parameter() -> None:
    coverage = coverage_of(tilts([0, 180]), CoverageParams(sectors=4, min_sectors=2))
    assert coverage.sectors == (True, False, True, False)
    assert coverage.missing == ("90°", "270°")


def test_frames_without_a_code_cover_nothing() -> None:
    blank = [np.full((240, 320, 3), 128, np.uint8) for _ in range(3)]
    assert tilt_coverage(blank).covered == 0
