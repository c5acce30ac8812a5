"""`Task` and `LatestOnly`: a task's signals die on the UI thread; one call at a time, the
newest waiting, older ones dropped, rate bounded."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Slot
from pytestqt.qtbot import QtBot

from app.tasks import LatestOnly, Task

TIMEOUT_MS = 10_000


class _Calls:
    """Numbered calls; the first blocks until released, each records that it started."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started: list[int] = []

    def call(self, n: int) -> int:
        self.started.append(n)
        if n == 0:
            self.release.wait(TIMEOUT_MS / 1000)
        return n


def test_calls_submitted_while_one_runs_keep_only_the_newest(qtbot: QtBot) -> None:
    runner = LatestOnly(QThreadPool.globalInstance())
    calls = _Calls()
    results: list[object] = []
    runner.done.connect(results.append)
    runner.submit(lambda: calls.call(0))
    for n in range(1, 5):
        runner.submit(lambda n=n: calls.call(n))
    assert not runner.idle
    calls.release.set()
    qtbot.waitUntil(lambda: runner.idle and len(results) == 2, timeout=TIMEOUT_MS)
    assert results == [0, 4]
    assert runner.dropped == 3
    assert calls.started == [0, 4]


class _StampingPool(QThreadPool):
    """Notes when each task is handed over, on the UI thread where the rate is kept (a
    worker's own start adds the pool's jitter, tens of ms on a loaded machine)."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[float] = []

    def start(self, runnable: QRunnable, priority: int = 0) -> None:  # type: ignore[override]
        self.handed.append(time.monotonic())
        super().start(runnable, priority)


def test_calls_start_no_faster_than_the_rate(qtbot: QtBot) -> None:
    pool = _StampingPool()
    runner = LatestOnly(pool, rate=20.0)
    results: list[object] = []
    runner.done.connect(results.append)
    for n in range(3):
        runner.submit(lambda n=n: n)
        qtbot.waitUntil(lambda n=n: len(results) == n + 1, timeout=TIMEOUT_MS)
    pool.waitForDone(TIMEOUT_MS)
    gaps = [b - a for a, b in itertools.pairwise(pool.handed)]
    assert len(gaps) == 2 and all(gap >= 0.049 for gap in gaps), gaps  # 50 ms, stamped late by µs


def test_a_failing_call_reports_and_the_next_one_runs(qtbot: QtBot) -> None:
    runner = LatestOnly(QThreadPool.globalInstance())

    def broken() -> object:
        raise ValueError("bad frame")

    with qtbot.waitSignal(runner.failed, timeout=TIMEOUT_MS) as failed:
        runner.submit(broken)
    assert isinstance(failed.args[0], ValueError)
    with qtbot.waitSignal(runner.done, timeout=TIMEOUT_MS) as done:
        runner.submit(lambda: "next")
    assert done.args == ["next"]


def test_the_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LatestOnly(QThreadPool.globalInstance(), rate=0)


class _Results(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[object] = []

    @Slot(object)
    def on_done(self, value: object) -> None:
        self.values.append(value)


def _start(results: _Results, destroyed_on: list[str]) -> None:
    """Start a task and keep no reference to it: the pool deletes it on its own thread."""
    task = Task(lambda: 7)
    task.signals.done.connect(results.on_done)
    task.signals.destroyed.connect(
        lambda: destroyed_on.append(threading.current_thread().name),
        Qt.ConnectionType.DirectConnection,
    )
    QThreadPool.globalInstance().start(task)


def test_a_tasks_signals_are_deleted_on_the_ui_thread_after_reporting(qtbot: QtBot) -> None:
    results, destroyed_on = _Results(), list[str]()
    _start(results, destroyed_on)
    qtbot.waitUntil(lambda: bool(destroyed_on), timeout=TIMEOUT_MS)
    assert results.values == [7]
    assert destroyed_on == [threading.main_thread().name]
