"""A thread-safe hand-over of frames from a producer thread to ``FrameSource.read``."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from app.capture.errors import CaptureError, FrameRejected
from app.capture.source import Frame


class FrameBuffer:
    """Frames (or rejected inputs) put by one thread, taken by another, oldest first.

    Items arrive in entries: ``put`` adds an entry of one item, ``put_group`` one of
    several (a video's frames), all or none. ``capacity`` bounds the entries waiting,
    ``max_items`` (default ``capacity``) the items in them together. When full the
    buffer either drops its oldest entries (``drop_oldest=True``: with ``capacity=1`` a
    live view always gets the newest frame) or refuses the new one (phone uploads, which
    must not vanish). ``finish`` marks the end: ``get`` hands out what is left, then
    raises the given error.
    """

    def __init__(self, *, capacity: int, drop_oldest: bool, max_items: int | None = None) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        max_items = capacity if max_items is None else max_items
        if max_items < capacity:
            raise ValueError(f"max_items must be >= capacity ({capacity}), got {max_items}")
        self._entries: deque[deque[Frame | FrameRejected]] = deque()
        self._items = 0
        self._capacity = capacity
        self._max_items = max_items
        self._drop_oldest = drop_oldest
        self._end: CaptureError | None = None
        self._changed = threading.Condition()

    def put(self, item: Frame | FrameRejected) -> bool:
        """Add an item; ``False`` if it was refused (full and not dropping, or finished)."""
        return self.put_group([item])

    def put_group(self, items: Sequence[Frame | FrameRejected]) -> bool:
        """Add ``items`` as one entry, to be taken in order; ``False`` if refused.

        Refused when finished, when more than ``max_items`` items, or when full and not
        dropping; nothing of a refused group is added.
        """
        if not items:
            raise ValueError("a group needs at least one item")
        with self._changed:
            if self._end is not None or len(items) > self._max_items:
                return False
            while self._entries and not self._has_room(len(items)):
                if not self._drop_oldest:
                    return False
                self._items -= len(self._entries.popleft())
            self._entries.append(deque(items))
            self._items += len(items)
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
            if self._entries:
                oldest = self._entries[0]
                item = oldest.popleft()
                self._items -= 1
                if not oldest:
                    self._entries.popleft()
                if isinstance(item, FrameRejected):
                    raise item
                return item
            if self._end is not None:
                raise self._end
            return None

    def _has_room(self, count: int) -> bool:
        return len(self._entries) < self._capacity and self._items + count <= self._max_items

    def _ready(self) -> bool:
        return bool(self._entries) or self._end is not None
