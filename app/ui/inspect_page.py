"""Inspect: open an offline bundle against a trust policy and verify captures with it."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.flows.verify import Verification, verify
from app.jobs import Inspection, Workspace, inspect_bundle
from app.tasks import Task
from app.ui import present
from app.ui.verify_page import IMAGE_FILTER
from app.ui.widgets.result import VerificationView


class InspectPage(QWidget):
    """A bundle's coverage, age and expiry; offline verification against it."""

    status = Signal(str)
    opened = Signal(object)
    """Emitted with the `Inspection` once a bundle verified."""
    verified = Signal(object)

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._workspace: Workspace | None = None
        self._inspection: Inspection | None = None
        self._policy_file: Path | None = None

        self._policy_button = QPushButton("Trust &policy…")
        self._open = QPushButton("Open &bundle…")
        self._check = QPushButton("&Verify a capture…")
        self._policy = QLabel("Trust: the local ledger's policy")
        self._policy.setWordWrap(True)
        self._facts = QGroupBox("Bundle")
        self._form = QFormLayout(self._facts)
        self._message = QLabel("No bundle open. A bundle is trusted only through a policy.")
        self._message.setWordWrap(True)
        self._form.addRow(self._message)
        self.result = VerificationView()

        buttons = QHBoxLayout()
        for button in (self._policy_button, self._open, self._check):
            buttons.addWidget(button)
        buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self._policy)
        left.addWidget(self._facts)
        left.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.result)
        panes = QHBoxLayout()
        panes.addLayout(left, 1)
        panes.addWidget(scroll, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(panes, 1)

        self._policy_button.clicked.connect(self._on_policy_clicked)
        self._open.clicked.connect(self._on_open_clicked)
        self._check.clicked.connect(self._on_check_clicked)
        self._update_buttons()

    def set_workspace(self, workspace: Workspace) -> None:
        """Default to ``workspace``'s policy; queue offline events in its state folder."""
        self._workspace = workspace
        self._update_buttons()

    def set_policy_file(self, path: Path) -> None:
        """Trust bundles through the policy file at ``path`` from now on."""
        self._policy_file = path
        self._policy.setText(f"Trust: policy file {path}")

    def open_bundle(self, path: Path) -> None:
        """Verify and describe the bundle at ``path``, in the thread pool."""
        if self._workspace is None:
            return
        self._inspection = None
        self._show_message(f"Checking {path.name}…")
        task = Task(partial(inspect_bundle, path, self._policy_file, self._workspace))
        task.signals.done.connect(self._on_opened)
        task.signals.failed.connect(self._on_open_failed)
        self._pool.start(task)

    def verify_capture(self, path: Path) -> None:
        """Verify the image at ``path`` against the open bundle, with no network."""
        if self._inspection is None:
            return
        self.result.show_busy()
        task = Task(partial(verify, path, registry=self._inspection.registry))
        task.signals.done.connect(self._on_verified)
        task.signals.failed.connect(self.result.show_error)
        self._pool.start(task)

    @Slot(object)
    def _on_opened(self, inspection: Inspection) -> None:
        self._inspection = inspection
        while self._form.rowCount():
            self._form.removeRow(0)
        for label, text in present.bundle_rows(inspection.bundle, inspection.trust):
            value = QLabel(text)
            value.setWordWrap(True)
            self._form.addRow(f"{label}:", value)
        self._update_buttons()
        self.status.emit(f"Bundle {inspection.bundle.path.name} verified")
        self.opened.emit(inspection)

    @Slot(object)
    def _on_open_failed(self, error: Exception) -> None:
        self._show_message(f"REFUSED — {type(error).__name__}: {error}")
        self._update_buttons()
        self.status.emit(f"Bundle refused: {error}")

    @Slot(object)
    def _on_verified(self, verification: Verification) -> None:
        self.result.show_verification(verification)
        self.verified.emit(verification)

    def _show_message(self, text: str) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self._message = QLabel(text)
        self._message.setWordWrap(True)
        self._form.addRow(self._message)

    @Slot()
    def _on_policy_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Trust policy file")
        if path:
            self.set_policy_file(Path(path))

    @Slot()
    def _on_open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a bundle", "", "Bundles (*)")
        if path:
            self.open_bundle(Path(path))

    @Slot()
    def _on_check_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Capture to verify", "", IMAGE_FILTER)
        if path:
            self.verify_capture(Path(path))

    def _update_buttons(self) -> None:
        self._open.setEnabled(self._workspace is not None)
        self._check.setEnabled(self._inspection is not None)
