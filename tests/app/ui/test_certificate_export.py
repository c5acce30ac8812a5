"""Export a certificate of a verification made on this computer, and check it as anyone
would: with the registry's trust policy and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.flows.certificate import Certificate, verify_certificate
from app.flows.verify import Outcome, verify
from app.jobs import Workspace
from app.ui.certificate_export import CertificateExport

if TYPE_CHECKING:  # not imported at run time: another folder's conftest may own the name
    from conftest import Captures

TIMEOUT_MS = 30_000


def test_export_a_genuine_verification_as_a_checkable_pdf(
    qtbot: QtBot, workspace: Workspace, captures: Captures, tmp_path: Path
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    export = CertificateExport(QThreadPool.globalInstance(), window)
    export.set_workspace(workspace)
    assert not export.action.isEnabled()  # nothing verified yet
    result = verify(
        captures.genuine, registry=workspace.registry, device=workspace.device, place="Counter 2"
    )
    assert result.outcome is Outcome.GENUINE
    export.remember(result)
    assert export.action.isEnabled()
    assert export.action.shortcut().toString() == "Ctrl+E"
    with qtbot.waitSignal(export.exported, timeout=TIMEOUT_MS) as done:
        export.export(tmp_path / "certificate.pdf")
    issued: Certificate = done.args[0]
    checked = verify_certificate((tmp_path / "certificate.pdf").read_bytes(), workspace.policy)
    assert checked == issued
    assert checked.event.place == "Counter 2"
    assert checked.event_leaf == result.event_leaf is not None
    assert checked.event_envelope == workspace.registry.ledger.entry(result.event_leaf)
    assert checked.device_key == workspace.device.verifier


def test_not_registered_offers_no_certificate(
    qtbot: QtBot, workspace: Workspace, captures: Captures
) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    export = CertificateExport(QThreadPool.globalInstance(), window)
    export.set_workspace(workspace)
    result = verify(captures.fresh[0], registry=workspace.registry)
    assert result.outcome is Outcome.NOT_REGISTERED
    export.remember(result)
    assert not export.action.isEnabled()
