"""Token buckets against a fake clock."""

from __future__ import annotations

import pytest

from registry_server.ratelimit import TokenBuckets


def test_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # clients are independent
    now[0] = 0.5
    assert buckets.take("a") == 0.0


def test_full_buckets_are_forgotten_past_the_client_limit() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=1.0, burst=1, clock=lambda: now[0], max_clients=2)
    for key in "abc":
        buckets.take(key)
    now[0] = 10.0
    buckets.take("d")
    assert buckets.take("a") == 0.0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBuckets(rate=0, burst=1)
