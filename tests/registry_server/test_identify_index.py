"""``POST /identify`` and the server's index on both backends (ledger folder and
PostgreSQL): the same answers, an index file that survives a restart and is rebuilt
when it cannot be trusted, 503 while it is built, and the no-code rate limit."""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from registry_samples import ledger, manufacturer, product
from starlette.applications import Starlette
from starlette.testclient import TestClient

import registry_server.identify as server_identify
from fingerprint.bitcode import bitcode
from fingerprint.features import Features
from fingerprint.identify import Index
from fingerprint.quality import QualityMeasures
from fingerprint.template import SCHEME, Template
from registry_client.catalog import source_at
from registry_client.embedded import EmbeddedRegistry
from registry_client.item import ItemId
from registry_client.records import ProductRecord, Signer, parse_record
from registry_server.app import Limits, create_app
from registry_server.identify import IndexNotReady, ServerIndex

GTIN = "09506000134352"


@functools.cache
def _template(seed: int) -> bytes:
    """A decodable template whose residual is seeded noise (no image needed)."""
    rng = np.random.default_rng(seed)
    features = Features(
        keypoints=np.zeros((0, 2), np.float32),
        descriptors=np.zeros((0, 32), np.uint8),
        lbp=np.zeros((1, 10), np.uint16),
        residual=rng.integers(-100, 100, (256, 256)).astype(np.int8),
    )
    quality = QualityMeasures(**dict.fromkeys(QualityMeasures.__slots__, 1.0))
    template = Template(features=features, quality=quality, code_text="", located_by_code=True)
    return template.to_bytes()


def _code(seed: int) -> NDArray[np.uint8]:
    return bitcode(Template.from_bytes(_template(seed)).features.residual).bits


def _enrol(registry: EmbeddedRegistry, maker: Signer, serial: str, seed: int) -> None:
    """Register item ``serial`` under the template scheme with `_template(seed)`."""
    envelope, data = product(maker, serial, _template(seed))
    record = parse_record(envelope.payload)
    assert isinstance(record, ProductRecord)
    registry.register(maker.sign(dataclasses.replace(record, scheme=SCHEME)), data)


def _query(*codes: NDArray[np.uint8], k: int = 3) -> dict[str, object]:
    return {"codes": [base64.b64encode(c.tobytes()).decode() for c in codes], "k": k}


def _item(serial: str) -> str:
    return ItemId(gtin=GTIN, serial=serial).format()


@dataclasses.dataclass
class Backend:
    """Opens the registry over one backend; the same log each time it is called."""

    open: Callable[[], EmbeddedRegistry]
    maker: Signer
    state: Path


@pytest.fixture(params=["folder", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    maker = manufacturer()
    folder = tmp_path / "ledger"
    ledger(folder, maker)
    opened: list[EmbeddedRegistry] = []
    if request.param == "folder":

        def open_registry() -> EmbeddedRegistry:
            opened.append(EmbeddedRegistry.open(folder, tmp_path / "checkpoints"))
            return opened[-1]
    else:
        from registry_server.postgres import open_store

        dsn = request.getfixturevalue("pg_dsn")

        def open_registry() -> EmbeddedRegistry:
            opened.append(open_store(dsn, folder, tmp_path / "checkpoints", pool_size=4))
            return opened[-1]

    yield Backend(open=open_registry, maker=maker, state=tmp_path / "state")
    for registry in opened:
        registry.close()


def test_identify_answers_the_same_on_every_backend(backend: Backend) -> None:
    registry = backend.open()
    for i in range(3):
        _enrol(registry, backend.maker, f"ID{i}", seed=i)
    registry.register(*product(backend.maker, "OTHER-SCHEME"))  # not indexed
    app = create_app(registry, index_path=backend.state / "identify.hmix")
    with TestClient(app) as client:
        assert app.state.index.ready(timeout=120)
        answer = client.post("/identify", json=_query(_code(1), k=1))
        assert answer.status_code == 200, answer.json()
        template_sha256 = hashlib.sha256(_template(1)).hexdigest()
        expected = {"item": _item("ID1"), "template_sha256": template_sha256, "distance": 0}
        assert answer.json() == {"candidates": [expected]}
        # Several codes (a probe without a printed code): the nearest of them counts.
        scanned = client.post("/identify", json=_query(_code(9), _code(2), k=1)).json()
        assert [c["item"] for c in scanned["candidates"]] == [_item("ID2")]
        # Registered through this server a moment ago: found at once.
        _enrol(registry, backend.maker, "LATE", seed=7)
        found = client.post("/identify", json=_query(_code(7), k=1)).json()
        assert [c["item"] for c in found["candidates"]] == [_item("LATE")]


def test_the_log_walk_reads_the_entries_each_backend_holds(backend: Backend) -> None:
    registry = backend.open()
    for i in range(3):
        _enrol(registry, backend.maker, f"ID{i}", seed=i)
    log = registry.ledger
    assert log.entries(0, 3) == tuple(log.entry(i) for i in range(3))
    assert log.entries(1, 2) == (log.entry(1),)
    digest = hashlib.sha256(_template(2)).digest()
    assert log.blobs([digest, bytes(32)]) == {digest: _template(2)}


def _watch_decodes(
    monkeypatch: pytest.MonkeyPatch, gate: threading.Event | None = None
) -> list[int]:
    """Counts the templates the server decodes into codes from now on; each decode
    first waits for ``gate`` when one is given."""
    calls: list[int] = []
    real = server_identify.enrolled_code

    def watched(template: bytes, n_bits: int = 256) -> NDArray[np.uint8] | None:
        if gate is not None:
            gate.wait()
        calls.append(1)
        return real(template, n_bits)

    monkeypatch.setattr(server_identify, "enrolled_code", watched)
    return calls


def _served_once(backend: Backend) -> tuple[Path, EmbeddedRegistry]:
    """Four items enrolled, a server started, queried and stopped: the index file it
    saved, and the registry."""
    path = backend.state / "identify.hmix"
    registry = backend.open()
    for i in range(4):
        _enrol(registry, backend.maker, f"ID{i}", seed=i)
    with TestClient(_ready(create_app(registry, index_path=path))) as client:
        assert client.post("/identify", json=_query(_code(0))).status_code == 200
    return path, registry


def _ready(app: Starlette) -> Starlette:
    """``app`` once its index covers the log (built in the background from start-up)."""
    assert app.state.index.ready(timeout=120)
    return app


def test_a_restarted_server_resumes_from_its_saved_index(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, registry = _served_once(backend)
    saved = Index.load(path)  # written when the server stopped
    assert len(saved) == 4 and saved.source == source_at(registry, 4)

    for i in range(4, 6):  # logged while the server was down
        _enrol(registry, backend.maker, f"ID{i}", seed=i)
    decodes = _watch_decodes(monkeypatch)
    restarted = backend.open()
    with TestClient(_ready(create_app(restarted, index_path=path))) as client:
        for i in (0, 5):
            found = client.post("/identify", json=_query(_code(i), k=1)).json()["candidates"]
            assert [c["item"] for c in found] == [_item(f"ID{i}")]
    # The two new items, plus the saved entries spot-checked: nothing else decoded.
    assert len(decodes) == 2 + min(4, server_identify.SPOT_CHECKS)
    assert len(Index.load(path)) == 6


def _flip_last_code_byte(path: Path, registry: EmbeddedRegistry) -> None:
    index = Index.load(path)
    codes = index.codes.copy()
    codes[-1, 0] ^= 0xFF
    forged = Index(index.n_bits, source=index.source)
    forged.add_many(codes, *zip(*(index.entry(r) for r in range(len(index))), strict=True))
    forged.save(path)  # a valid file, checksum and all, whose code is not the template's


def _corrupt(path: Path, registry: EmbeddedRegistry) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def _truncate(path: Path, registry: EmbeddedRegistry) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _foreign(path: Path, registry: EmbeddedRegistry) -> None:
    path.write_bytes(b"PK\x03\x04 not an index at all")


def _other_log(path: Path, registry: EmbeddedRegistry) -> None:
    index = Index.load(path)  # same origin and size, another root: a fork or another log
    index.source = f"ledger 4 {'ab' * 32} {registry.checkpoint().origin}"
    index.save(path)


def _ahead(path: Path, registry: EmbeddedRegistry) -> None:
    index = Index.load(path)  # of a longer log: this one was restored to an older state
    index.source = index.source.replace("ledger 4 ", "ledger 9 ")
    index.save(path)


def _other_code_length(path: Path, registry: EmbeddedRegistry) -> None:
    Index(512, source=Index.load(path).source).save(path)


def _empty_label(path: Path, registry: EmbeddedRegistry) -> None:
    # A valid checksum over a label table whose first label is empty (the first label's
    # end moved to 0, its text joined to the second's): decoding it raises ValueError.
    index = Index.load(path)
    labels = b"".join(index.entry(r)[0].encode() for r in range(len(index)))
    body = path.read_bytes()[: -hashlib.sha256().digest_size]
    at = len(body) - len(labels) - 8 * len(index)
    body = body[:at] + bytes(8) + body[at + 8 :]
    path.write_bytes(body + hashlib.sha256(body).digest())


_DAMAGE: dict[str, Callable[[Path, EmbeddedRegistry], None]] = {
    "corrupt": _corrupt,
    "truncated": _truncate,
    "foreign": _foreign,
    "other log": _other_log,
    "ahead of the log": _ahead,
    "other code length": _other_code_length,
    "forged code": _flip_last_code_byte,
    "empty label": _empty_label,
}


@pytest.mark.parametrize("how", list(_DAMAGE))
def test_an_index_file_that_cannot_be_trusted_is_rebuilt(
    backend: Backend, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    path, registry = _served_once(backend)
    _DAMAGE[how](path, registry)
    caplog.set_level(logging.WARNING, logger=server_identify.__name__)
    with TestClient(_ready(create_app(backend.open(), index_path=path))) as client:
        for i in range(4):
            found = client.post("/identify", json=_query(_code(i), k=1)).json()["candidates"]
            assert found[0]["item"] == _item(f"ID{i}") and found[0]["distance"] == 0
    assert f"rebuilding, {path} is unusable" in caplog.text
    assert len(Index.load(path)) == 4  # rebuilt and saved whole


def test_a_query_during_the_build_gets_503_with_retry_after(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = backend.open()
    _enrol(registry, backend.maker, "ID0", seed=0)
    release = threading.Event()
    _watch_decodes(monkeypatch, gate=release)
    index = ServerIndex(registry, wait=0.0)
    app = create_app(registry)
    app.state.index = index
    try:
        with pytest.raises(IndexNotReady) as raised:
            index.search(_code(0).reshape(1, -1), k=1)
        assert (raised.value.indexed, raised.value.size) == (0, 1)
        answer = TestClient(app).post("/identify", json=_query(_code(0)))
        assert answer.status_code == 503
        assert 1 <= int(answer.headers["retry-after"]) <= server_identify.MAX_RETRY_AFTER
        assert "being built: 0 of 1 leaves indexed" in answer.json()["error"]
    finally:
        release.set()
        index.stop()
    again = ServerIndex(registry)
    try:
        found = again.search(_code(0).reshape(1, -1), k=1)
    finally:
        again.stop()
    assert [c.label for c in found] == [_item("ID0")]


def test_processes_sharing_an_index_file_never_leave_it_torn(backend: Backend) -> None:
    """Two servers (one per process in production) saving the same file while a third
    reads it: every read sees one whole, valid index."""
    registry = backend.open()
    for i in range(3):
        _enrol(registry, backend.maker, f"ID{i}", seed=i)
    path = backend.state / "identify.hmix"
    path.parent.mkdir(parents=True)
    indexes = []
    for n in (2, 3):  # two writers, each holding a different prefix of the log
        index = Index(256, source=source_at(registry, n))
        for i in range(n):
            index.add(_code(i), _item(f"ID{i}"), hashlib.sha256(_template(i)).digest())
        indexes.append(index)
    indexes[0].save(path)
    stop = threading.Event()

    def write(index: Index) -> None:
        while not stop.is_set():
            index.save(path)

    writers = [threading.Thread(target=write, args=(i,)) for i in indexes]
    for thread in writers:
        thread.start()
    try:
        sizes = {len(Index.load(path)) for _ in range(200)}
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    assert sizes <= {2, 3}
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_no_code_queries_have_their_own_stricter_limit(tmp_path: Path) -> None:
    maker = manufacturer()
    ledger(tmp_path / "ledger", maker)
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state")
    _enrol(registry, maker, "ID0", seed=0)
    limits = Limits(write_burst=100, scan_rate=0.001, scan_burst=2)
    try:
        with TestClient(_ready(create_app(registry, limits=limits))) as client:
            no_code = _query(_code(0), _code(1))
            assert [client.post("/identify", json=no_code).status_code for _ in range(2)] == [
                200,
                200,
            ]
            limited = client.post("/identify", json=no_code)
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            assert "no-code identification" in limited.json()["error"]
            # A query with a printed code's window is not held back by them.
            assert client.post("/identify", json=_query(_code(0))).status_code == 200
    finally:
        registry.close()
