"""The only thread-pool code: run one pure call off the UI thread, report back by signal.

Follow napari's slicer: snapshot the inputs on the UI thread (a frame, a path, a
registry handle), run a pure call in ``QThreadPool``, apply the result on the UI thread.
Connect ``done``/``failed``/``step`` to bound ``@Slot`` methods of QObjects living on
the UI thread (never lambdas): Qt queues the call to the receiver's thread and drops it
if the receiver was destroyed meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial

from PySide6.QtCore import QObject, QRunnable, Signal

log = logging.getLogger(__name__)


class _Signals(QObject):
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
        self.signals = _Signals()
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


def _drain(make: Callable[[], Iterable[object]], emit: Callable[[object], None]) -> int:
    count = 0
    for value in make():
        emit(value)
        count += 1
    return count
