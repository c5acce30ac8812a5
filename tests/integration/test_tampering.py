"""A dishonest or broken server is caught: each tampering raises its specific error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from live_server import Live, start
from registry_samples import LOG_KEY, item, ledger, manufacturer, product

from registry_client.checkpoint import Checkpoint
from registry_client.client import HttpRegistry
from registry_client.embedded import EmbeddedRegistry
from registry_client.errors import ProofError, RegistryUnavailable, SignatureError
from registry_client.item import ItemId
from registry_client.note import Note, SignerKey
from registry_client.registry import SplitViewError, TemplateMismatchError

Tamper = Callable[[httpx.Request, bytes], bytes]


class _Tampering(httpx.BaseTransport):
    """Forwards to the real server and rewrites the bodies of matching paths."""

    def __init__(self, path_prefix: str, tamper: Tamper) -> None:
        self._prefix = path_prefix
        self._tamper = tamper
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._real.handle_request(request)
        if not request.url.path.startswith(self._prefix):
            return response
        body = self._tamper(request, response.read())
        return httpx.Response(response.status_code, content=body, request=request)


def _client(live: Live, tmp_path: Path, prefix: str, tamper: Tamper) -> HttpRegistry:
    transport = _Tampering(prefix, tamper)
    return HttpRegistry(live.url, live.policy, tmp_path, transport=transport)


def _flip(_: httpx.Request, body: bytes) -> bytes:
    return body[:5] + bytes([body[5] ^ 1]) + body[6:]


@pytest.fixture(scope="module")
def serial(live: Live, tmp_path_factory: pytest.TempPathFactory) -> ItemId:
    registry = HttpRegistry(live.url, live.policy, tmp_path_factory.mktemp("state"))
    for i in range(3):
        registry.register(*product(live.maker, f"TAMPER-{i}"))
    registry.close()
    return item("TAMPER-1")


def test_flipped_byte_in_a_tile(live: Live, tmp_path: Path, serial: ItemId) -> None:
    registry = _client(live, tmp_path, "/tile/0/", _flip)
    with pytest.raises(ProofError, match="calculated root"):
        registry.lookup(serial)


def test_flipped_byte_in_the_template(live: Live, tmp_path: Path, serial: ItemId) -> None:
    registry = _client(live, tmp_path, "/blobs/", _flip)
    with pytest.raises(TemplateMismatchError):
        registry.lookup(serial)


def test_forged_checkpoint_signed_by_another_key(
    live: Live, tmp_path: Path, serial: ItemId
) -> None:
    forger = SignerKey.generate(LOG_KEY.name)  # same name and origin, other key

    def forge(_: httpx.Request, body: bytes) -> bytes:
        text = Note.parse(body).text
        return Note(text=text, signatures=(forger.sign(text),)).format().encode()

    registry = _client(live, tmp_path, "/checkpoint", forge)
    with pytest.raises(SignatureError):
        registry.lookup(serial)


def test_garbage_and_oversized_answers(live: Live, tmp_path: Path, serial: ItemId) -> None:
    lookup = _client(live, tmp_path, "/lookup/", lambda _r, _b: b'{"leaves": [0], "entries"')
    with pytest.raises(RegistryUnavailable, match="not JSON"):
        lookup.lookup(serial)
    huge = _client(live, tmp_path, "/checkpoint", lambda _r, b: b * 10_000)
    with pytest.raises(RegistryUnavailable, match="bytes"):
        huge.checkpoint()
    truncated = _client(live, tmp_path, "/tile/entries/", lambda _r, b: b[:-3])
    with pytest.raises(ProofError):
        truncated.audit()


def test_split_view_is_refused(tmp_path: Path) -> None:
    """The operator restarts on another ledger with the same key and origin."""
    maker = manufacturer()
    for name in ("a", "b"):
        ledger(tmp_path / name, maker)
    for name, serials in (("a", ["S1", "S2"]), ("b", ["X1", "X2", "X3"])):
        embedded = EmbeddedRegistry.open(tmp_path / name, tmp_path / f"state-{name}")
        for s in serials:
            embedded.register(*product(maker, s))
        embedded.close()
    state = tmp_path / "client"
    first = start(tmp_path / "a")
    policy = EmbeddedRegistry.open(tmp_path / "a", tmp_path / "x").policy
    registry = HttpRegistry(first.url, policy, state)
    held = registry.checkpoint()
    first.stop()
    second = start(tmp_path / "b")
    try:
        forked = HttpRegistry(second.url, policy, state)
        with pytest.raises(SplitViewError) as refused:
            forked.lookup(item("X1"))
        assert refused.value.held == held
        assert isinstance(refused.value.offered, Checkpoint)
        assert refused.value.offered.size == 3
    finally:
        second.stop()
