"""A thread-safe hand-over of frames from a producer thread to ``FrameSource.read``."""

from __future__ import annotations

import threading
from collections import deque

from app.capture.errors import CaptureError, FrameRejected
from app.capture.source import Frame


class FrameBuffer:
    """Frames (or rejected inputs) put by one thread, taken by another, oldest first.

    When full it either drops its oldest item (``drop_oldest=True``: with ``capacity=1``
    a live view always gets the newest frame) or refuses the new one (phone uploads,
    which must not vanish). ``finish`` marks the end: ``get`` hands out what is left,
    then raises the given error.
    """

    def __init__(self, *, capacity: int, drop_oldest: bool) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self._items: deque[Frame | FrameRejected] = deque()
        self._capacity = capacity
        self._drop_oldest = drop_oldest
        self._end: CaptureError | None = None
        self._changed = threading.Condition()

    def put(self, item: Frame | FrameRejected) -> bool:
        """Add an item; ``False`` if it was refused (full and not dropping, or finished)."""
        with self._changed:
            if self._end is not None:
                return False
            if len(self._items) >= self._capacity:
                if not self._drop_oldest:
                    return False
                self._items.popleft()
            self._items.append(item)
            self._changed.notify_all()
            return True

    def finish(self, error: CaptureError) -> None:
        """No more items: after the queued ones, ``get`` raises ``error``. First call wins."""
        with self._changed:
            if self._end is None:
                self._end = error
                self._changed.notify_all()

    def get(self, timeout: float) -> Frame | None:
        """The oldest item, ``None`` after ``timeout`` seconds without one.

        Raises the ``FrameRejected`` that was put, or the error given to ``finish``.
        """
        if timeout < 0:
            raise ValueError(f"timeout must be >= 0, got {timeout}")
        with self._changed:
            self._changed.wait_for(self._ready, timeout)
            if self._items:
                item = self._items.popleft()
                if isinstance(item, FrameRejected):
                    raise item
                return item
            if self._end is not None:
                raise self._end
            return None

    def _ready(self) -> bool:
        return bool(self._items) or self._end is not None
