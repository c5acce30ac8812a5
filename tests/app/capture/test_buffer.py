"""``FrameBuffer``: newest-only for live views, refuse-when-full for uploads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.capture.buffer import FrameBuffer
from app.capture.errors import StreamEnded, UnreadableImage
from app.capture.source import Frame


def _frame(index: int) -> Frame:
    return Frame(image=np.zeros((2, 2, 3), np.uint8), timestamp=0.0, source="t", index=index)


def test_a_live_buffer_keeps_the_newest() -> None:
    buffer = FrameBuffer(capacity=1, drop_oldest=True)
    assert all(buffer.put(_frame(i)) for i in range(3))
    frame = buffer.get(0)
    assert frame is not None and frame.index == 2
    assert buffer.get(0) is None


def test_an_upload_buffer_refuses_when_full_and_keeps_order() -> None:
    buffer = FrameBuffer(capacity=2, drop_oldest=False)
    assert [buffer.put(_frame(i)) for i in range(3)] == [True, True, False]
    assert [f.index for f in (buffer.get(0), buffer.get(0)) if f is not None] == [0, 1]


def test_rejected_inputs_are_raised_in_turn_and_the_end_after_the_rest() -> None:
    buffer = FrameBuffer(capacity=4, drop_oldest=False)
    buffer.put(UnreadableImage("frame 0", "garbage"))
    buffer.put(_frame(1))
    buffer.finish(StreamEnded("t", frames=2))
    buffer.finish(StreamEnded("t", frames=99))  # the first end wins
    assert not buffer.put(_frame(2))
    with pytest.raises(UnreadableImage):
        buffer.get(0)
    frame = buffer.get(0)
    assert frame is not None and frame.index == 1
    with pytest.raises(StreamEnded, match="after 2 frames"):
        buffer.get(0)


def test_get_wakes_when_another_thread_puts() -> None:
    buffer = FrameBuffer(capacity=1, drop_oldest=True)
    producer = threading.Thread(target=buffer.put, args=(_frame(7),))
    producer.start()
    frame = buffer.get(timeout=10)
    producer.join()
    assert frame is not None and frame.index == 7


def test_bad_arguments_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="capacity must be >= 1, got 0"):
        FrameBuffer(capacity=0, drop_oldest=True)
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        FrameBuffer(capacity=1, drop_oldest=True).get(-1)
