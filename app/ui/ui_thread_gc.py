"""Cyclic garbage collected on the UI thread only.

When the last reference to a PySide6 wrapper goes on another thread, Shiboken queues its
C++ object for deletion on the UI thread, which drains the queue from a Python pending
call (``BindingManager::runDeletionInMainThread``). Python's cyclic collector runs on
whichever thread passes its allocation threshold: a pool or daemon thread compiling a
Numba kernel allocates hard, and its collection can finalise a closed window's widget
tree, which Qt is deleting on the UI thread at the same time. The UI thread then crashes
draining the queue (SIGSEGV, no Python traceback; seen in CI while a registry server's
warm-up thread compiled and pytest-qt deleted the windows of the test before).

So a GUI process turns automatic collection off and runs it from a timer on the UI
thread, generation by generation by the collector's own thresholds, as calibre does.
Objects freed by reference count, nearly all of them, are freed as before.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

INTERVAL_MS = 250
"""How often the timer looks. A cold engine warm-up then delays the UI 72-78 ms at worst,
against 103-127 ms with automatic collection (``benchmarks/bench_ui_gc.py``, 2026-12-07);
every 1 s it was 126-151 ms, each collection having more to scan."""


def collect_due() -> int:
    """Collect the oldest generation whose count passed its threshold (`gc.get_threshold`),
    as the automatic collector would; the number of unreachable objects found."""
    counts, limits = gc.get_count(), gc.get_threshold()
    due = [n for n, (count, limit) in enumerate(zip(counts, limits, strict=True)) if count > limit]
    return gc.collect(max(due)) if due else 0


class UiThreadCollector(QObject):
    """Turns automatic collection off for the process's life and collects what is due
    on this object's thread every ``interval_ms``; give it the application as parent."""

    def __init__(self, parent: QObject, *, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._collect)
        self._timer.start(interval_ms)

    @Slot()
    def _collect(self) -> None:
        collect_due()
