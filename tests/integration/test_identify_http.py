"""``hallmark identify --registry URL`` against the real server: the server searches its
index of codes, the client verifies and re-ranks every candidate; bad queries get 400s,
an unwalkable store 501, and a garbled answer a clear error."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from live_server import start
from registry_samples import product
from starlette.testclient import TestClient

import fingerprint
from app.cli import main
from app.flows.identify import ServerIndex, identify
from app.flows.keys import load_signer
from fingerprint.gs1 import parse
from fingerprint.identify import IndexFormatError, query_for
from fingerprint.synth import Item, Material, Tier, capture, make_item
from fingerprint.template import SCHEME
from registry_client.client import HttpRegistry
from registry_client.embedded import EmbeddedRegistry, read_policy
from registry_client.errors import RecordFormatError, RegistryUnavailable
from registry_client.records import ProductRecord, Signer, parse_record
from registry_server.app import Limits, create_app
from registry_server.identify import MAX_CODES, MAX_K

ITEMS = 3


def _main(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def _item_id(item: Item) -> str:
    code = parse(item.gs1)
    return f"(01){code.gtin}(21){code.serial}"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


def test_identify_through_the_server(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(11)
    items = [make_item(rng, (Material.PAPER, Material.PLASTIC)[i % 2], i) for i in range(ITEMS)]
    images = {}
    for name, item in [*((f"enrol-{i}", it) for i, it in enumerate(items)),
                       ("probe-1", items[1]), ("probe-late", items[ITEMS - 1])]:  # fmt: skip
        images[name] = home / f"{name}.png"
        cv2.imwrite(str(images[name]), capture(item, rng, Tier.EASY))
    keys, ledger = home / "keys", home / "ledger"
    skey = keys / "acme.example.skey"
    assert _main("keys", "new", "acme.example", "--dir", keys) == 0
    assert _main("registry", "init", ledger, "--trust", keys / "acme.example.vkey") == 0
    for i in range(ITEMS - 1):
        assert _main("enrol", images[f"enrol-{i}"], "--key", skey, "--registry", ledger) == 0
    _register_undecodable(ledger, load_signer(skey), home / "state")
    server = start(ledger)
    try:
        remote = ("--registry", server.url, "--policy", ledger / "policy")
        capsys.readouterr()
        assert _main("identify", images["probe-1"], *remote) == 0
        text = capsys.readouterr().out
        assert text.startswith(f"IDENTIFIED: {_item_id(items[1])}")
        assert "searched by the registry server; window located by its code" in text

        # An item appended through the server after the index was built is found.
        assert _main("enrol", images[f"enrol-{ITEMS - 1}"], "--key", skey, *remote) == 0
        capsys.readouterr()
        assert _main("identify", images["probe-late"], *remote) == 0
        assert capsys.readouterr().out.startswith(f"IDENTIFIED: {_item_id(items[ITEMS - 1])}")

        # A probe without a code sends its hypotheses: scanned, the nearest of them counts.
        (code,) = query_for(fingerprint.extract(images["probe-1"])).codes
        alone = {"codes": [_b64(code.tobytes())], "k": 1}
        (nearest,) = httpx.post(server.url + "/identify", json=alone).json()["candidates"]
        hypotheses = {"codes": [_b64(bytes(32)), _b64(code.tobytes())], "k": 2}
        found = httpx.post(server.url + "/identify", json=hypotheses).json()["candidates"]
        assert found[0] == nearest and nearest["item"] == _item_id(items[1])

        _bad_queries(server.url)

        # The server is not trusted: a template it names that the log does not is refused.
        policy = read_policy(ledger / "policy")
        lying = HttpRegistry(server.url, policy, home / "state", transport=_lying(server.url))
        with pytest.raises(IndexFormatError, match="rebuild the index"):
            identify(images["probe-1"], registry=lying, index=ServerIndex(lying), k=1)
        lying.close()
    finally:
        server.stop()


def _register_undecodable(ledger: Path, maker: Signer, state: Path) -> None:
    """An item of the template scheme whose template does not decode: the server skips
    it (registries never decode templates), the other items stay searchable."""
    envelope, data = product(maker, "BAD-1")
    record = parse_record(envelope.payload)
    assert isinstance(record, ProductRecord)
    record = replace(record, scheme=SCHEME)
    registry = EmbeddedRegistry.open(ledger, state)
    registry.register(maker.sign(record), data)
    registry.close()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _bad_queries(url: str) -> None:
    code = _b64(bytes(32))
    cases: list[tuple[Any, str]] = [
        ({"codes": [code], "k": 0}, "k must be an integer in 1..20"),
        ({"codes": [code], "k": MAX_K + 1}, "k must be"),
        ({"codes": [code], "k": True}, "k must be"),
        ({"codes": [], "k": 1}, f"codes must be a list of 1..{MAX_CODES} codes, got 0"),
        ({"codes": [code] * (MAX_CODES + 1), "k": 1}, f"got {MAX_CODES + 1}"),
        ({"codes": ["AAA="], "k": 1}, r"codes\[0\] is 2 bytes, want 32"),
        ({"codes": [code, "!!"], "k": 1}, r"codes\[1\] is not base64"),
        ({"codes": [code], "k": 1, "image": "x"}, "exactly"),
    ]
    with httpx.Client(base_url=url) as client:
        for body, reason in cases:
            answer = client.post("/identify", json=body)
            assert answer.status_code == 400, body
            assert re.search(reason, answer.json()["error"]), answer.json()
        assert client.post("/identify", content=b"{").status_code == 400


def _lying(url: str) -> httpx.BaseTransport:
    """The real server, except that ``/identify`` names a template of zeros."""
    real = httpx.HTTPTransport()

    def handle(request: httpx.Request) -> httpx.Response:
        answer = real.handle_request(request)
        if request.url.path != "/identify":
            return answer
        answer.read()
        found = answer.json()["candidates"]
        for c in found:
            c["template_sha256"] = "00" * 32
        return httpx.Response(200, json={"candidates": found})

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        b"[]",
        b'{"candidates": {}}',
        b'{"candidates": [1]}',
        b'{"candidates": [{"item": "(01)09506000134352(21)A", "template_sha256": "ab", '
        b'"distance": 3}]}',
        b'{"candidates": [{"item": "nope", "template_sha256": "' + b"ab" * 32 + b'", '
        b'"distance": 3}]}',
        b'{"candidates": [{"item": "(01)09506000134352(21)A", "template_sha256": "'
        + b"ab" * 32
        + b'", "distance": 257}]}',
        b'{"candidates": [' + b",".join([b"{}"] * 3) + b"]}",
    ],
)
def test_garbage_answer_is_a_clear_error(answer: bytes, tmp_path: Path) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=answer))
    registry = HttpRegistry(
        "http://registry.test", _policy(tmp_path), tmp_path, transport=transport
    )
    with pytest.raises(RegistryUnavailable, match="identify answer"):
        registry.identify([bytes(32)], k=2)


def test_refusals_reach_the_client(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "codes[0] is 2 bytes, want 32"})

    registry = HttpRegistry(
        "http://registry.test", _policy(tmp_path), tmp_path, transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(RecordFormatError, match="is 2 bytes, want 32"):
        registry.identify([b"\0\0"], k=1)


def test_size_capped_and_rate_limited(tmp_path: Path) -> None:
    _policy(tmp_path)
    server = start(tmp_path / "ledger", Limits(max_body=1000, write_rate=0.001, write_burst=2))
    try:
        with httpx.Client(base_url=server.url) as client:
            too_big = {"codes": [_b64(bytes(32))] * 30, "k": 1}
            assert client.post("/identify", json=too_big).status_code == 413
            assert client.post("/identify", json={"codes": [], "k": 1}).status_code == 400
            limited = client.post("/identify", json={"codes": [], "k": 1})
            assert limited.status_code == 429 and "retry-after" in limited.headers
    finally:
        server.stop()


def test_unwalkable_store_answers_501(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    _main("keys", "new", "acme.example", "--dir", tmp_path / "keys")
    _main("registry", "init", ledger, "--trust", tmp_path / "keys" / "acme.example.vkey")
    embedded = EmbeddedRegistry.open(ledger, tmp_path / "state")

    class OtherStore:  # any `Store` that is not a ledger folder
        ledger = embedded.ledger
        admit_products = embedded.admit_products
        admit_event = embedded.admit_event
        append = embedded.append

    code = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    answer = TestClient(create_app(OtherStore())).post("/identify", json={"codes": [code], "k": 1})
    embedded.close()
    assert answer.status_code == 501
    assert "cannot be searched by surface" in answer.json()["error"]


def _policy(folder: Path) -> Any:
    keys, ledger = folder / "keys", folder / "ledger"
    _main("keys", "new", "acme.example", "--dir", keys)
    _main("registry", "init", ledger, "--trust", keys / "acme.example.vkey")
    return read_policy(ledger / "policy")
