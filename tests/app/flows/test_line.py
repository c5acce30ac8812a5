"""The line's pure rules: which items to take or reject, batches, throughput."""

from __future__ import annotations

import pytest
from flow_samples import seen
from hypothesis import given
from hypothesis import strategies as st

from app.flows.line import Action, LineQueue, LineTracker, Sighting, Throughput
from app.flows.live import LiveAnalysis
from fingerprint.quality import RetakeReason

BLUR = RetakeReason.OUT_OF_FOCUS


def _run(tracker: LineTracker, frames: list[LiveAnalysis]) -> list[Sighting]:
    out: list[Sighting] = []
    for frame in frames:
        out += tracker.observe(frame)
    return out + tracker.finish()


def test_each_steady_item_is_taken_once() -> None:
    tracker = LineTracker(2)
    frames = [seen("A"), seen("A"), seen("A"), seen(None), seen("B"), seen("B")]
    assert _run(tracker, frames) == [
        Sighting(action=Action.TAKE, serial="A"),
        Sighting(action=Action.TAKE, serial="B"),
    ]
    assert tracker.taken == 2


def test_an_item_that_leaves_unsteady_is_rejected_with_what_was_wrong() -> None:
    tracker = LineTracker(2)
    frames = [seen("A", BLUR), seen("A"), seen("A", BLUR), seen("B"), seen("B")]
    first, second = _run(tracker, frames)
    assert first == Sighting(
        action=Action.REJECT, serial="A", reason="not captured: hold still and let it focus"
    )
    assert second.action is Action.TAKE and second.serial == "B"


def test_an_item_that_passes_too_quickly_is_rejected() -> None:
    (sighting,) = _run(LineTracker(3), [seen("A"), seen("A"), seen(None)])
    assert sighting.reason == "not captured: left view before a steady capture"


def test_an_item_shown_again_is_rejected_as_enrolled_already() -> None:
    frames = [seen("A"), seen(None), seen("A"), seen("A"), seen("A")]
    take, again = _run(LineTracker(1), frames)
    assert take.action is Action.TAKE
    assert again == Sighting(action=Action.REJECT, serial="A", reason="already taken in this run")


def test_items_back_to_back_without_a_gap_are_told_apart() -> None:
    frames = [seen("A"), seen("B"), seen("C", BLUR)]
    sightings = _run(LineTracker(1), frames)
    assert [(s.action, s.serial) for s in sightings] == [
        (Action.TAKE, "A"),
        (Action.TAKE, "B"),
        (Action.REJECT, "C"),
    ]


def test_a_batch_is_ready_when_full_or_when_the_oldest_waited_long_enough() -> None:
    queue: LineQueue[str] = LineQueue(batch_size=3, max_wait=2.0, capacity=4)
    assert not queue.ready(0.0)
    assert queue.put("a", 0.0) and queue.put("b", 0.5)
    assert not queue.ready(1.9)
    assert queue.ready(2.0)
    assert queue.put("c", 1.0)
    assert queue.ready(1.0)
    assert queue.put("d", 1.1)
    assert not queue.put("e", 1.2), "a full queue refuses"
    assert queue.take() == ["a", "b", "c"]
    assert len(queue) == 1 and queue.take() == ["d"] and queue.take() == []


def test_queue_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="batch_size <= capacity"):
        LineQueue(batch_size=5, max_wait=1.0, capacity=4)


@given(st.lists(st.integers(0, 5), max_size=40), st.integers(1, 5))
def test_the_queue_never_holds_more_than_its_capacity_and_keeps_order(
    puts: list[int], capacity: int
) -> None:
    queue: LineQueue[int] = LineQueue(batch_size=1, max_wait=0.0, capacity=capacity)
    accepted = [n for n, value in enumerate(puts) if queue.put(n, float(value))]
    assert len(queue) <= capacity
    assert accepted == list(range(min(len(puts), capacity)))
    assert [queue.take()[0] for _ in range(len(queue))] == accepted


def test_throughput_counts_items_per_minute_over_its_window() -> None:
    rate = Throughput(window=60.0)
    assert rate.per_minute(0.0) == 0.0
    rate.start(0.0)
    for t in range(1, 31):
        rate.add(float(t))
    assert rate.per_minute(30.0) == pytest.approx(60.0)
    assert rate.per_minute(90.0) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="positive"):
        Throughput(window=0)
