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


def test_a_group_is_one_entry_taken_in_order_all_or_none() -> None:
    buffer = FrameBuffer(capacity=2, max_items=5, drop_oldest=False)
    assert buffer.put_group([_frame(0), _frame(1), _frame(2), _frame(3)])
    assert not buffer.put_group([_frame(4), _frame(5)])  # 6 items: over max_items
    assert buffer.put(_frame(4))
    assert not buffer.put(_frame(5))  # two entries wait: full
    assert [f.index for f in iter(lambda: buffer.get(0), None)] == [0, 1, 2, 3, 4]
    assert buffer.put_group([_frame(6), _frame(7)]) and buffer.put(_frame(8))


def test_a_live_buffer_drops_whole_entries_for_a_group() -> None:
    buffer = FrameBuffer(capacity=2, max_items=3, drop_oldest=True)
    assert buffer.put(_frame(0)) and buffer.put(_frame(1))
    assert buffer.put_group([_frame(2), _frame(3)])
    assert not buffer.put_group([_frame(i) for i in range(4)])  # could never fit
    assert [f.index for f in iter(lambda: buffer.get(0), None)] == [1, 2, 3]


def test_groups_need_room_and_items() -> None:
    with pytest.raises(ValueError, match="max_items must be >= capacity \\(2\\), got 1"):
        FrameBuffer(capacity=2, max_items=1, drop_oldest=False)
    with pytest.raises(ValueError, match="a group needs at least one item"):
        FrameBuffer(capacity=1, drop_oldest=False).put_group([])
