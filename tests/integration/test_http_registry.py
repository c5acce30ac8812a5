"""HttpRegistry against the real server: register, lookup, proofs, refusals, queueing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from live_server import Live, start
from registry_samples import (
    OTHER_GTIN,
    event,
    item,
    key_revocation,
    ledger,
    manufacturer,
    product,
    withdrawal,
)

from registry_client.client import HttpRegistry
from registry_client.embedded import read_policy
from registry_client.errors import (
    RecordFormatError,
    RegistryUnavailable,
    RevokedKeyError,
    SignatureError,
)
from registry_client.merkle import leaf_hash, verify_inclusion
from registry_client.registry import DuplicateItemError, NotRegisteredError
from registry_server.app import Limits


def test_register_lookup_and_proof(live: Live, tmp_path: Path) -> None:
    registry = HttpRegistry(live.url, live.policy, tmp_path)
    envelope, template = product(live.maker, "INT-1")
    leaf = registry.register(envelope, template)
    found = registry.lookup(item("INT-1"))
    assert found.leaf_index == leaf
    assert found.template == template
    assert found.record.template_sha256 == hashlib.sha256(template).digest()
    cp = found.checkpoint.checkpoint
    verify_inclusion(leaf_hash(found.envelope), leaf, cp.size, found.inclusion_proof, cp.root_hash)
    assert registry.checkpoint().size >= cp.size
    registry.close()


def test_a_hologram_template_is_posted_stored_and_proven(live: Live, tmp_path: Path) -> None:
    registry = HttpRegistry(live.url, live.policy, tmp_path)
    hologram = b"HMHG hologram template bytes" * 8
    envelope, template = product(live.maker, "INT-HOLO", hologram=hologram)
    with pytest.raises(RecordFormatError, match="names a hologram template but none"):
        registry.register(envelope, template)
    registry.register(envelope, template, hologram)
    assert registry.lookup(item("INT-HOLO")).hologram == hologram
    registry.close()


def test_duplicate_and_unknown_key_are_refused(live: Live, tmp_path: Path) -> None:
    registry = HttpRegistry(live.url, live.policy, tmp_path)
    registry.register(*product(live.maker, "INT-DUP"))
    with pytest.raises(DuplicateItemError) as dup:
        registry.register(*product(live.maker, "INT-DUP", b"another template"))
    assert dup.value.item == item("INT-DUP")
    with pytest.raises(SignatureError, match="403"):
        registry.register(*product(manufacturer("rogue"), "INT-ROGUE"))
    with pytest.raises(NotRegisteredError):
        registry.lookup(item("INT-NEVER"))
    registry.close()


def test_same_serial_under_two_gtins_is_two_items(live: Live, tmp_path: Path) -> None:
    registry = HttpRegistry(live.url, live.policy, tmp_path)
    first = registry.register(*product(live.maker, "INT-TWIN"))
    second = registry.register(*product(live.maker, "INT-TWIN", gtin=OTHER_GTIN))
    assert registry.lookup(item("INT-TWIN")).leaf_index == first
    found = registry.lookup(item("INT-TWIN", OTHER_GTIN))
    assert (found.leaf_index, found.record.gtin) == (second, OTHER_GTIN)
    registry.close()


def test_malformed_and_oversized_posts(live: Live, tmp_path: Path) -> None:
    with httpx.Client(base_url=live.url, timeout=10) as raw:
        bad = raw.post("/records", content=b"{")
        assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
        assert raw.post("/records", content=bytes(3 * 1024 * 1024)).status_code == 413
    registry = HttpRegistry(live.url, live.policy, tmp_path)
    envelope, _ = product(live.maker, "INT-BIG")
    with pytest.raises(RecordFormatError, match="413"):
        registry.register(envelope, bytes(2 * 1024 * 1024))
    registry.close()


def test_rate_limit_is_429(tmp_path: Path) -> None:
    maker = manufacturer()
    ledger(tmp_path / "ledger", maker)
    server = start(tmp_path / "ledger", Limits(write_rate=0.01, write_burst=1))
    try:
        policy_path = tmp_path / "ledger" / "policy"
        registry = HttpRegistry(server.url, read_policy(policy_path), tmp_path / "state")
        registry.register(*product(maker, "RL-1"))
        with pytest.raises(RegistryUnavailable, match="429.*retry after"):
            registry.register(*product(maker, "RL-2"))
        registry.close()
    finally:
        server.stop()


class _Offline(httpx.BaseTransport):
    """Refuses to connect while ``down``; otherwise forwards to the real server."""

    def __init__(self) -> None:
        self.down = True
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return self._real.handle_request(request)


def test_events_queue_offline_and_sync_later(live: Live, tmp_path: Path) -> None:
    HttpRegistry(live.url, live.policy, tmp_path).register(*product(live.maker, "INT-EV"))
    transport = _Offline()
    registry = HttpRegistry(live.url, live.policy, tmp_path, transport=transport)
    device = manufacturer("device")
    assert registry.append_event(event(device, "INT-EV")) is None
    assert registry.sync() == 0  # still down: nothing sent, nothing lost
    transport.down = False
    assert registry.sync() == 1
    assert registry.sync() == 0
    assert [e.device for e in registry.lookup(item("INT-EV")).events] == [device.key_id]
    registry.close()


def test_withdrawal_and_key_revocation_over_http(tmp_path: Path) -> None:
    maker = manufacturer()
    ledger(tmp_path / "ledger", maker)
    server = start(tmp_path / "ledger")
    try:
        policy = read_policy(tmp_path / "ledger" / "policy")
        registry = HttpRegistry(server.url, policy, tmp_path / "state")
        registry.register(*product(maker, "W-1"))
        assert registry.append_event(withdrawal(maker, "W-1")) is not None
        assert registry.lookup(item("W-1")).withdrawn
        with pytest.raises(SignatureError, match="403"):
            registry.append_event(withdrawal(manufacturer("rogue"), "W-1"))
        assert registry.append_event(key_revocation(maker)) is not None
        with pytest.raises(RevokedKeyError):
            registry.lookup(item("W-1"))
        registry.close()
    finally:
        server.stop()
