"""Per-client token buckets: ``rate`` tokens a second, at most ``burst`` banked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBuckets:
    """One token bucket per client key (an IP address); thread-safe, bounded memory.

    `take` spends one token and returns 0.0, or returns the seconds until one is due.
    When more than ``max_clients`` buckets exist, full ones are forgotten (a full bucket
    is what a new client gets anyway).
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate {rate}/s and burst {burst}: want rate > 0 and burst ≥ 1")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)
        self._mutex = threading.Lock()

    def take(self, key: str) -> float:
        """Spend a token of ``key``'s bucket: 0.0, or the wait in seconds if it is empty."""
        with self._mutex:
            now = self._clock()
            tokens, at = self._buckets.get(key, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / self._rate
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self._max_clients:
                self._forget_full(now)
            return 0.0

    def _forget_full(self, now: float) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self._rate >= self._burst:
                del self._buckets[key]
