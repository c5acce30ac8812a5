"""BurstRecorder: which live frames a tilt burst keeps, and when it is complete."""

from __future__ import annotations

import numpy as np

from app.flows.tilt_burst import BurstRecorder
from fingerprint.hologram import TiltCoverage
from fingerprint.hologram.params import BurstParams

SMALL = BurstParams(min_frames=3, max_frames=5)
ITEM = ("09506000134352", "SN1")


def frame(height: int = 20, width: int = 30) -> np.ndarray:
    return np.zeros((height, width, 3), np.uint8)


def coverage(complete: bool) -> TiltCoverage:
    return TiltCoverage(sectors=(complete,) * 8, needed=6, max_tilt_deg=20.0)


def test_frames_without_the_code_or_of_another_size_are_skipped() -> None:
    recorder = BurstRecorder(params=SMALL)
    assert not recorder.offer(frame(), item=None)
    assert recorder.offer(frame(), item=ITEM)
    assert not recorder.offer(frame(30, 20), item=ITEM)  # turned: another size
    assert len(recorder.frames) == 1 and recorder.skipped == 2


def test_a_full_burst_keeps_no_more_and_is_done() -> None:
    recorder = BurstRecorder(params=SMALL)
    kept = [recorder.offer(frame(), item=ITEM) for _ in range(7)]
    assert kept == [True] * 5 + [False] * 2
    assert recorder.full and recorder.skipped == 0
    assert recorder.done(coverage(False), counted=1)


def test_done_once_enough_frames_cover_the_circle() -> None:
    recorder = BurstRecorder(params=SMALL)
    for _ in range(3):
        recorder.offer(frame(), item=ITEM)
    assert not recorder.done(coverage(True), counted=2)  # covered, but too few frames then
    assert not recorder.done(coverage(False), counted=3)
    assert recorder.done(coverage(True), counted=3)


def test_another_items_code_is_not_kept_and_is_told() -> None:
    recorder = BurstRecorder(params=SMALL)
    other = ("09506000134352", "SN2")
    assert not recorder.is_another_item(other)  # nothing kept yet: any item may start
    assert recorder.offer(frame(), item=ITEM)
    assert recorder.is_another_item(other) and not recorder.is_another_item(None)
    assert not recorder.offer(frame(), item=other)
    assert recorder.item == ITEM and len(recorder.frames) == 1 and recorder.skipped == 1
