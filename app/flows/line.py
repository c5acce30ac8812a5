"""Enrolment at the line: which items in view to enrol, batching, and throughput.

Items pass the camera one after another. `LineTracker` watches the analysed frames and
decides, per presentation of an item, to *take* one frame of it (its quality held for N
frames, and its serial was not taken before in this run) or to *reject* it with a
reason (it left view before a good capture, or it was taken already). Taken frames
wait in a bounded `LineQueue` and go to the enrolment worker in batches; `Throughput`
measures items per minute. All of it is pure: time comes in as numbers.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.flows.live import LiveAnalysis, Steadiness

T = TypeVar("T")


class Action(enum.StrEnum):
    """What the line does with an item."""

    TAKE = "take"
    REJECT = "reject"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sighting:
    """A decision about one item: take the frame just analysed, or reject the item."""

    action: Action
    serial: str
    reason: str = ""


class LineTracker:
    """Per presentation of an item: take it once when steady, or say why not."""

    def __init__(self, frames: int) -> None:
        self._steady = Steadiness(frames)
        self._taken: set[str] = set()
        self._serial: str | None = None
        self._decided = False
        self._problems: tuple[str, ...] = ()

    @property
    def taken(self) -> int:
        """Distinct serials taken in this run."""
        return len(self._taken)

    def observe(self, analysis: LiveAnalysis) -> list[Sighting]:
        """The decisions ``analysis`` (the next frame) brings, oldest first."""
        out: list[Sighting] = []
        if analysis.serial != self._serial:
            out += self.finish()
            self._serial = analysis.serial
        serial = analysis.serial
        if serial is None or self._decided:
            self._steady.observe(analysis)
            return out
        if serial in self._taken:
            self._decided = True
            reason = "already taken in this run"
            return [*out, Sighting(action=Action.REJECT, serial=serial, reason=reason)]
        self._problems = analysis.instructions()
        if self._steady.observe(analysis):
            self._decided = True
            self._taken.add(serial)
            out.append(Sighting(action=Action.TAKE, serial=serial))
        return out

    def finish(self) -> list[Sighting]:
        """The item in view has gone (or the line stopped): reject it if never taken."""
        serial, decided, problems = self._serial, self._decided, self._problems
        self._serial, self._decided, self._problems = None, False, ()
        if serial is None or decided:
            return []
        reason = "; ".join(problems) if problems else "left view before a steady capture"
        return [Sighting(action=Action.REJECT, serial=serial, reason=f"not captured: {reason}")]


class LineQueue(Generic[T]):
    """Taken items waiting for the enrolment worker, handed out in batches.

    A batch is ready when ``batch_size`` items wait or the oldest has waited
    ``max_wait`` seconds. At most ``capacity`` items wait: `put` refuses more.
    """

    def __init__(self, *, batch_size: int, max_wait: float, capacity: int) -> None:
        if not 1 <= batch_size <= capacity:
            raise ValueError(f"want 1 <= batch_size <= capacity, got {batch_size}, {capacity}")
        self.batch_size = batch_size
        self.max_wait = max_wait
        self.capacity = capacity
        self._items: deque[tuple[float, T]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: T, now: float) -> bool:
        """Queue ``item`` at time ``now``; ``False`` (not queued) when full."""
        if len(self._items) >= self.capacity:
            return False
        self._items.append((now, item))
        return True

    def ready(self, now: float) -> bool:
        """Whether a batch should go now."""
        if not self._items:
            return False
        return len(self._items) >= self.batch_size or now - self._items[0][0] >= self.max_wait

    def take(self) -> list[T]:
        """The oldest items, up to a batch."""
        count = min(self.batch_size, len(self._items))
        return [self._items.popleft()[1] for _ in range(count)]


class Throughput:
    """Items finished per minute over the last ``window`` seconds."""

    def __init__(self, window: float = 60.0) -> None:
        if window <= 0:
            raise ValueError(f"window must be positive, got {window}")
        self.window = window
        self._done: deque[float] = deque()
        self._start: float | None = None

    def start(self, now: float) -> None:
        """The line started at ``now``: the rate counts from here."""
        self._start = now
        self._done.clear()

    def add(self, now: float) -> None:
        """One item finished at ``now``."""
        if self._start is None:
            self._start = now
        self._done.append(now)

    def per_minute(self, now: float) -> float:
        """Items per minute over the window (or since the start, if shorter)."""
        while self._done and self._done[0] <= now - self.window:
            self._done.popleft()
        if self._start is None:
            return 0.0
        span = min(self.window, now - self._start)
        return 60.0 * len(self._done) / span if span > 0 else 0.0
