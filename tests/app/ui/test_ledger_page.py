"""The Ledger page and its flow: lazy pages, search, a proven item, log check and audit,
and a forked log refused as a split view."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from pytestqt.qtbot import QtBot

from app.flows.ledger_browse import (
    Kind,
    LogCheck,
    LogView,
    check_log,
    describe,
    open_view,
    rows,
    search,
)
from app.jobs import Workspace
from app.ui.ledger_model import LOADING
from app.ui.ledger_page import LedgerPage
from fingerprint.template import SCHEME, VERSION
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.item import ItemId
from registry_client.note import SignerKey
from registry_client.records import (
    ProductRecord,
    Region,
    Signer,
    Verdict,
    VerificationEvent,
    generate_key,
)
from registry_client.registry import SplitViewError, VerifiedRecord

TIMEOUT_MS = 20_000
ITEMS = 600
GTINS = ("09506000134352", "04012345000016")


@dataclass(frozen=True, slots=True, kw_only=True)
class Ledger:
    path: Path
    log_key: SignerKey
    maker: Signer


def _product(maker: Signer, n: int) -> tuple[ProductRecord, bytes]:
    template = f"template {n}".encode() * 4
    record = ProductRecord(
        gtin=GTINS[n % 2],
        serial=f"SN{n:05d}",
        batch=f"B{n // 100}",
        sku=None,
        scheme=SCHEME,
        scheme_version=VERSION,
        template_sha256=hashlib.sha256(template).digest(),
        template_size=len(template),
        region=Region(x=4.0, y=0.0, width=22.0, height=22.0),
        hologram_sha256=None,
        manufacturer=maker.key_id,
        time=datetime(2026, 11, 25, 6, n % 60, tzinfo=UTC),
    )
    return record, template


def _fill(registry: EmbeddedRegistry, maker: Signer, numbers: range) -> None:
    items = [(maker.sign(r), t) for r, t in (_product(maker, n) for n in numbers)]
    admitted = registry.admit_products(items)
    registry.append([a for a in admitted if not isinstance(a, Exception)])


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    """600 products and one verification event (leaf 600, about SN00007)."""
    folder = tmp_path_factory.mktemp("ledger") / "ledger"
    maker, log_key = generate_key("acme"), SignerKey.generate("test.log")
    policy = create_ledger(folder, log_key, manufacturers=(maker.verifier,))
    registry = EmbeddedRegistry.open(folder, folder.parent / "state", policy)
    try:
        _fill(registry, maker, range(ITEMS))
        device = generate_key("counter-1")
        event = VerificationEvent(
            device=device.key_id,
            gtin=GTINS[1],
            serial="SN00007",
            place="Lyon",
            time=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
            verdict=Verdict.GENUINE,
            score=6.5,
            scheme=SCHEME,
            scheme_version=VERSION,
        )
        registry.append_event(device.sign(event))
    finally:
        registry.close()
    return Ledger(path=folder, log_key=log_key, maker=maker)


@pytest.fixture
def view(ledger: Ledger, tmp_path: Path) -> Iterator[LogView]:
    opened = open_view(str(ledger.path), None, tmp_path / "state")
    yield opened
    QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)
    opened.close()


def test_rows_say_what_each_entry_claims(view: LogView) -> None:
    first, last = rows(view, 0, 1)[0], rows(view, ITEMS, ITEMS + 1)[0]
    assert (first.kind, first.item, first.detail) == (
        Kind.PRODUCT,
        ItemId(gtin=GTINS[0], serial="SN00000"),
        "batch B0",
    )
    assert first.signer.startswith("acme+")
    assert (last.kind, last.item) == (Kind.EVENT, ItemId(gtin=GTINS[1], serial="SN00007"))
    assert last.detail == "genuine, score +6.50 at Lyon"
    assert describe(3, b"not an envelope").kind is Kind.UNREADABLE


def test_search_by_serial_gtin_and_item(view: LogView) -> None:
    def found(query: str) -> list[int]:
        return [leaf for step in search(view, query, threading.Event()) for leaf in step.found]

    assert found("sn00007") == [7, ITEMS]  # the record and its verification event
    assert len(found("4012345000016")) == ITEMS // 2 + 1  # a GTIN-13, padded
    assert found(f"(01){GTINS[0]}(21)SN00010") == [10]
    assert found(f"(01){GTINS[1]}(21)SN00007") == [7, ITEMS]  # from the index, with its event
    assert found("nothing-like-it") == []
    cancelled = threading.Event()
    cancelled.set()
    assert list(search(view, "SN", cancelled)) == []
    with pytest.raises(ValueError, match="type a serial"):
        list(search(view, "  ", threading.Event()))


@pytest.fixture(scope="module")
def fork(ledger: Ledger, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same log key signing a different tree of the same size."""
    folder = tmp_path_factory.mktemp("fork") / "ledger"
    policy = create_ledger(folder, ledger.log_key, manufacturers=(ledger.maker.verifier,))
    forked = EmbeddedRegistry.open(folder, folder.parent / "state", policy)
    try:
        _fill(forked, ledger.maker, range(1000, 1001 + ITEMS))
    finally:
        forked.close()
    return folder


def test_check_log_then_refuse_a_fork_with_the_same_log_key(view: LogView, fork: Path) -> None:
    check = check_log(view, full=True)
    assert check.current.size == ITEMS + 1
    assert check.audit is not None and check.audit.leaves == ITEMS + 1
    other = open_view(str(fork), None, view.state_dir)  # this computer saw the real log
    try:
        with pytest.raises(SplitViewError, match="same tree size, different root"):
            check_log(other, full=False)
    finally:
        other.close()


def test_open_view_refuses_what_is_not_a_ledger_or_url(tmp_path: Path) -> None:
    (tmp_path / "bundle.hmb").write_bytes(b"x")
    with pytest.raises(ValueError, match="want a ledger folder or a registry URL"):
        open_view(str(tmp_path / "bundle.hmb"), None, tmp_path / "state")


# -- the page ---------------------------------------------------------------------


def _page(qtbot: QtBot, view: LogView) -> LedgerPage:
    page = LedgerPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    page.set_view(view)
    qtbot.waitUntil(lambda: page.model.rowCount() == ITEMS + 1, timeout=TIMEOUT_MS)
    return page


def test_table_reads_only_the_pages_on_screen(qtbot: QtBot, view: LogView) -> None:
    page = _page(qtbot, view)
    model = page.model
    first = model.index(0, 1)
    qtbot.waitUntil(lambda: model.data(first) != LOADING, timeout=TIMEOUT_MS)
    assert model.data(model.index(0, 0)) == str(ITEMS)  # newest first
    assert model.data(first) == "verification"
    assert model.loaded_pages() <= 2  # 601 entries are 3 pages; the bottom one is not shown
    page.table.scrollToBottom()
    bottom = model.index(ITEMS, 3)
    qtbot.waitUntil(lambda: model.data(bottom) == "SN00000", timeout=TIMEOUT_MS)


def test_search_narrows_the_table_and_an_item_opens_proven(qtbot: QtBot, view: LogView) -> None:
    page = _page(qtbot, view)
    page._query.setText("SN00007")
    page.start_search()
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not page._search_bar.isVisible(), timeout=TIMEOUT_MS)
    with qtbot.waitSignal(page.item_shown, timeout=TIMEOUT_MS) as shown:
        page.table.selectRow(1)  # shown (and proven) once its page is read
    proven: VerifiedRecord = shown.args[0]
    assert (proven.leaf_index, proven.record.serial) == (7, "SN00007")
    assert len(proven.events) == 1
    text = " ".join(label.text() for label in page._detail.findChildren(type(page.check_result)))
    assert "7 of 601" in text
    page.clear_search()
    assert page.model.rowCount() == ITEMS + 1


def test_check_log_and_full_audit_report_on_the_page(qtbot: QtBot, view: LogView) -> None:
    page = _page(qtbot, view)
    with qtbot.waitSignal(page.checked, timeout=TIMEOUT_MS) as done:
        page.check_log()
    assert isinstance(done.args[0], LogCheck)
    assert "OK — checkpoint test.log, size 601" in page.check_result.text()
    with qtbot.waitSignal(page.checked, timeout=TIMEOUT_MS) as done:
        page.full_audit()
    assert "Full audit passed: 601 entries," in page.check_result.text()
    assert "600 blobs recomputed" in page.check_result.text()


def test_page_reports_a_fork_as_a_failed_check(qtbot: QtBot, view: LogView, fork: Path) -> None:
    check_log(view, full=False)  # this computer has seen the real log
    other = open_view(str(fork), None, view.state_dir)
    try:
        page = LedgerPage(QThreadPool.globalInstance())
        qtbot.addWidget(page)
        page.set_view(other)
        with qtbot.waitSignal(page.checked, timeout=TIMEOUT_MS) as done:
            page.check_log()
        assert isinstance(done.args[0], SplitViewError)
        assert page.check_result.text().startswith("FAILED — SplitViewError: same tree size")
    finally:
        QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)
        other.close()


def test_a_registry_switched_away_from_stays_open_for_its_running_audit(
    qtbot: QtBot, ledger: Ledger, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[str] = []
    really_close = LogView.close

    def close(view: LogView) -> None:
        closed.append(view.name)
        really_close(view)

    monkeypatch.setattr(LogView, "close", close)
    page = LedgerPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.browse(str(ledger.path), None, workspace)
    qtbot.waitUntil(lambda: page.view is not None, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(page.checked, timeout=TIMEOUT_MS) as done:
        page.full_audit()
        page.browse("", None, workspace)  # Settings: back to the local ledger, mid-audit
    assert isinstance(done.args[0], LogCheck), done.args[0]
    assert closed == []
    QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)
    page.close_view()
    assert closed == [str(ledger.path)]  # the opened one; the local ledger is the window's
