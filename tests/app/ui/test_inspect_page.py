"""The Inspect page: a bundle trusted only through a policy; offline checks; the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import STEADY_FRAMES, Captures
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.capture.video import VideoFile
from app.flows.enrol import enrol
from app.flows.verify import Outcome
from app.jobs import Inspection, Workspace
from app.ui.inspect_page import InspectPage
from app.ui.widgets.capture_panel import Mode
from registry_client.bundle import Selection, SelectionKind, export_bundle
from registry_client.client import open_registry
from registry_client.embedded import LOG_SKEY, EmbeddedRegistry, create_ledger, read_policy
from registry_client.note import SignerKey
from registry_server.serve import RegistryServer

TIMEOUT_MS = 10_000


@pytest.fixture
def bundle(workspace: Workspace, tmp_path: Path) -> Path:
    signer = SignerKey.parse((workspace.places.ledger / LOG_SKEY).read_text().strip())
    out = tmp_path / "items.hmb"
    export_bundle(
        workspace.places.ledger,
        out,
        Selection(kind=SelectionKind.MANUFACTURER, values=(workspace.key.key.reference,)),
        policy=workspace.policy,
        signer=signer,
        expires=timedelta(days=30),
    )
    return out


def _page(qtbot: QtBot, workspace: Workspace) -> InspectPage:
    page = InspectPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.set_workspace(workspace)
    return page


def test_bundle_shows_coverage_and_expiry_then_verifies_offline(
    qtbot: QtBot, workspace: Workspace, captures: Captures, bundle: Path
) -> None:
    page = _page(qtbot, workspace)
    with qtbot.waitSignal(page.opened, timeout=TIMEOUT_MS) as opened:
        page.open_bundle(bundle)
    inspection = opened.args[0]
    assert isinstance(inspection, Inspection)
    shown = [label.text() for label in page.findChildren(QLabel)]
    assert "FRESH" in shown
    assert f"manufacturer {workspace.key.key.reference}" in shown
    assert any(text.startswith("1 records") for text in shown)
    assert any("(in 30.0 days)" in text for text in shown)
    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS) as verified:
        page.verify_capture(captures.genuine)
    assert verified.args[0].outcome is Outcome.GENUINE
    assert page.result.badge.title() == "GENUINE"


def test_bundle_is_refused_under_a_policy_that_does_not_trust_its_log(
    qtbot: QtBot, workspace: Workspace, bundle: Path, tmp_path: Path
) -> None:
    create_ledger(tmp_path / "other", SignerKey.generate("other.log"))
    page = _page(qtbot, workspace)
    page.set_policy_file(tmp_path / "other" / "policy")
    with qtbot.waitSignal(page.status, timeout=TIMEOUT_MS) as refused:
        page.open_bundle(bundle)
    assert refused.args[0].startswith("Bundle refused")
    assert any(label.text().startswith("REFUSED") for label in page.findChildren(QLabel))


def test_fake_camera_verifies_offline_queues_signed_events_and_syncs_them(
    qtbot: QtBot, workspace: Workspace, captures: Captures, bundle: Path
) -> None:
    page = InspectPage(QThreadPool.globalInstance(), steady_frames=STEADY_FRAMES, rate=1000.0)
    qtbot.addWidget(page)
    page.set_workspace(workspace)
    with qtbot.waitSignal(page.opened, timeout=TIMEOUT_MS) as opened:
        page.open_bundle(bundle)
    outbox = opened.args[0].outbox
    assert page.outbox.text().startswith("Outbox: empty")
    assert not page.sync_button.isEnabled()
    outcomes: list[Outcome] = []
    page.verified.connect(lambda verification: outcomes.append(verification.outcome))
    with qtbot.waitSignal(page.capture.ended, timeout=TIMEOUT_MS):
        page.capture.open_source(VideoFile(captures.counter_video), Mode.PLAYED)
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=TIMEOUT_MS)
    assert outcomes == [Outcome.GENUINE, Outcome.COUNTERFEIT]
    assert len(outbox.pending()) == 2
    assert page.outbox.text().startswith("Outbox: 2 signed verification events wait")
    size = workspace.registry.checkpoint().size
    with qtbot.waitSignal(page.synced, timeout=TIMEOUT_MS) as synced:
        qtbot.mouseClick(page.sync_button, Qt.MouseButton.LeftButton)
    assert synced.args == [2]
    assert outbox.pending() == ()
    assert workspace.registry.checkpoint().size == size + 2
    assert page.outbox.text().startswith("Outbox: empty")
    assert not page.sync_button.isEnabled()


@pytest.fixture
def server(workspace: Workspace, captures: Captures, tmp_path: Path) -> Iterator[Served]:
    """A real registry server on 127.0.0.1 whose ledger holds the enrolled item too."""
    folder = tmp_path / "remote"
    create_ledger(folder, SignerKey.generate("remote.log"), manufacturers=(workspace.key.key,))
    remote = EmbeddedRegistry.open(folder, tmp_path / "remote-state")
    try:
        enrol(captures.enrol, signer=workspace.signer, registry=remote)
    finally:
        remote.close()
    running = RegistryServer(folder, "127.0.0.1", 0)
    running.start()
    yield Served(url=running.url, folder=folder)
    running.stop()


@dataclass(frozen=True)
class Served:
    url: str
    folder: Path


def test_sync_goes_to_the_registry_server_chosen_in_settings(
    qtbot: QtBot, workspace: Workspace, captures: Captures, bundle: Path, server: Served
) -> None:
    page = _page(qtbot, workspace)
    page.set_sync_target(server.url, server.folder / "policy")
    with qtbot.waitSignal(page.opened, timeout=TIMEOUT_MS) as opened:
        page.open_bundle(bundle)
    outbox = opened.args[0].outbox
    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS):
        page.verify_capture(captures.genuine)
    assert len(outbox.pending()) == 1
    local = workspace.registry.checkpoint().size
    with qtbot.waitSignal(page.synced, timeout=TIMEOUT_MS) as synced:
        page.sync()
    assert synced.args == [1] and outbox.pending() == ()
    assert workspace.registry.checkpoint().size == local  # not the local ledger
    remote = open_registry(
        server.url, read_policy(server.folder / "policy"), workspace.places.state
    )
    try:
        assert remote.checkpoint().size == 2  # the item's record, then the synced event
    finally:
        remote.close()
