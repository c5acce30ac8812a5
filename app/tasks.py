"""The only thread-pool code: run one pure call off the UI thread, report back by signal.

Follow napari's slicer: snapshot the inputs on the UI thread (a frame, a path, a
registry handle), run a pure call in ``QThreadPool``, apply the result on the UI thread.
Connect ``done``/``failed``/``step`` to bound ``@Slot`` methods of QObjects living on
the UI thread (never lambdas): Qt queues the call to the receiver's thread and drops it
if the receiver was destroyed meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from functools import partial

from PySide6.QtCore import (
    QCoreApplication,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)

log = logging.getLogger(__name__)


class _Signals(QObject):
    """A task's signals: a child of the application, deleted (`deleteLater`) on the UI
    thread once the task has run; the pool deletes the task itself on its own thread."""

    done = Signal(object)
    failed = Signal(object)
    step = Signal(object)


class Task(QRunnable):
    """Runs one pure call in a ``QThreadPool``; reports back through queued signals.

    ``done`` carries the call's result, ``failed`` the exception it raised. A task made
    by `Task.steps` emits ``step`` for each value its iterable yields, then ``done``
    with the number of steps.
    """

    def __init__(self, call: Callable[[], object]) -> None:
        super().__init__()
        self.signals = _Signals(QCoreApplication.instance())
        self._call = call

    @classmethod
    def steps(cls, make: Callable[[], Iterable[object]]) -> Task:
        """A task that drains ``make()``, emitting ``step`` per value (a Qt-free flow's
        progress); cancel it through the ``threading.Event`` the flow was given."""
        task = cls(make)
        task._call = partial(_drain, make, task.signals.step.emit)
        return task

    def run(self) -> None:
        try:
            result = self._call()
        except Exception as exc:  # the one boundary where a broad except is allowed
            log.exception("task failed")
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)
        finally:
            self.signals.deleteLater()


def _drain(make: Callable[[], Iterable[object]], emit: Callable[[object], None]) -> int:
    count = 0
    for value in make():
        emit(value)
        count += 1
    return count


class LatestOnly(QObject):
    """Runs submitted calls in the pool one at a time, at most ``rate`` per second.

    For work on a stream (analysing live frames, checking captures): a call submitted
    while another runs or waits replaces the waiting one, which is dropped (`dropped`
    counts them), so at most one call runs and one waits, however fast calls arrive.
    ``done`` and ``failed`` carry each call's result or exception, on this object's
    thread. ``rate=None`` sets no rate limit.
    """

    done = Signal(object)
    failed = Signal(object)

    def __init__(
        self, pool: QThreadPool, *, rate: float | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._pool = pool
        self._interval = 0.0 if rate is None else 1.0 / rate
        self._waiting: Callable[[], object] | None = None
        self._running = False
        self._last_start = -float("inf")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)  # a coarse timer fires 5% early
        self._timer.timeout.connect(self._kick)
        self.dropped = 0

    @property
    def idle(self) -> bool:
        """Whether nothing runs or waits."""
        return not self._running and self._waiting is None

    def submit(self, call: Callable[[], object]) -> None:
        """Run ``call`` when the previous call is done and the rate allows."""
        if self._waiting is not None:
            self.dropped += 1
        self._waiting = call
        self._kick()

    def cancel(self) -> None:
        """Drop the waiting call, if any (the running one still reports)."""
        self._waiting = None
        self._timer.stop()

    @Slot()
    def _kick(self) -> None:
        if self._running or self._waiting is None or self._timer.isActive():
            return
        wait = self._last_start + self._interval - time.monotonic()
        if wait > 0:
            self._timer.start(max(1, round(wait * 1000)))
            return
        call, self._waiting = self._waiting, None
        self._running = True
        self._last_start = time.monotonic()
        task = Task(call)
        task.signals.done.connect(self._on_done)
        task.signals.failed.connect(self._on_failed)
        self._pool.start(task)

    @Slot(object)
    def _on_done(self, result: object) -> None:
        self._running = False
        self.done.emit(result)
        self._kick()

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        self._running = False
        self.failed.emit(error)
        self._kick()
