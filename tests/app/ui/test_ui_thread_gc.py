"""Cyclic garbage made anywhere is collected on the UI thread, never on a busy worker."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from app.ui.ui_thread_gc import UiThreadCollector

WORKER = "allocating-worker"


class _Cycle:
    """Refers to itself, so only the cyclic collector frees it; says on which thread."""

    def __init__(self, finalised_on: list[str]) -> None:
        self.myself = self
        self._finalised_on = finalised_on

    def __del__(self) -> None:
        self._finalised_on.append(threading.current_thread().name)


def _leave_a_cycle_then_allocate_on_a_worker(finalised_on: list[str]) -> list[list[int]]:
    """Drop a cycle, then make far more containers than generation 0's threshold on a
    worker thread (as a Numba compile does); returns them, so they stay counted."""
    gc.collect()  # counts from zero: this thread's few allocations next cannot trigger one
    _Cycle(finalised_on)
    kept: list[list[int]] = []
    worker = threading.Thread(
        target=lambda: kept.extend([n] for n in range(20 * gc.get_threshold()[0])), name=WORKER
    )
    worker.start()
    worker.join()
    return kept


def test_with_automatic_collection_the_allocating_worker_finalises_the_cycle() -> None:
    """Why the collector exists (and that the scene below does reach the collector)."""
    finalised_on: list[str] = []
    gc.enable()
    try:
        _leave_a_cycle_then_allocate_on_a_worker(finalised_on)
    finally:
        gc.disable()
    assert finalised_on == [WORKER]


def test_the_collector_finalises_it_on_the_ui_thread_instead(qtbot: QtBot) -> None:
    owner = QObject()
    UiThreadCollector(owner, interval_ms=10)
    assert not gc.isenabled()
    finalised_on: list[str] = []
    kept = _leave_a_cycle_then_allocate_on_a_worker(finalised_on)
    assert finalised_on == []
    qtbot.waitUntil(lambda: bool(finalised_on), timeout=5_000)
    assert finalised_on == [threading.main_thread().name]
    assert len(kept) > gc.get_threshold()[0]
