"""Inspect: open an offline bundle against a trust policy, verify captures with no network,
queue the signed verification events, and sync them once back online."""

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

from app.capture.source import Frame
from app.flows.explain import Explained, verify_and_explain
from app.flows.outbox_sync import is_remote, sync_to_server
from app.flows.verify import TypedItemError
from app.jobs import Inspection, Workspace, inspect_bundle, sync_outbox
from app.settings import Thresholds
from app.tasks import LatestOnly, Task
from app.ui import present
from app.ui.widgets.capture_panel import (
    ANALYSIS_RATE,
    IMAGE_FILTER,
    STEADY_FRAMES,
    Analysed,
    CapturePage,
    CapturePanel,
)
from app.ui.widgets.item_fields import ItemFields
from app.ui.widgets.result import VerificationView
from fingerprint.params import MatchParams


class InspectPage(CapturePage):
    """A bundle's coverage, age and expiry; offline verification; the event outbox."""

    status = Signal(str)
    opened = Signal(object)
    """Emitted with the `Inspection` once a bundle verified."""
    verified = Signal(object)
    """Emitted with each `Verification` after it is shown."""
    synced = Signal(int)
    """Emitted with the number of events sent by a sync."""

    def __init__(
        self,
        pool: QThreadPool,
        *,
        steady_frames: int = STEADY_FRAMES,
        rate: float = ANALYSIS_RATE,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self._workspace: Workspace | None = None
        self._params = MatchParams()
        self._inspection: Inspection | None = None
        self._policy_file: Path | None = None
        self._server: tuple[str, Path | None] | None = None
        self._syncing = False
        self._queued = 0
        self._checks = LatestOnly(pool, parent=self)
        self._checks.done.connect(self._on_verified)
        self._checks.failed.connect(self._on_verify_failed)

        self._policy_button = QPushButton("Trust &policy…")
        self._open = QPushButton("Open &bundle…")
        self._check = QPushButton("&Verify a capture…")
        self.sync_button = QPushButton("S&ync events")
        self.sync_button.setToolTip("Send the queued verification events to the local ledger")
        self._policy = QLabel("Trust: the local ledger's policy")
        self._policy.setWordWrap(True)
        self._facts = QGroupBox("Bundle")
        self._form = QFormLayout(self._facts)
        self._message = QLabel("No bundle open. A bundle is trusted only through a policy.")
        self._message.setWordWrap(True)
        self._form.addRow(self._message)
        self.outbox = QLabel("Outbox: no bundle open")
        self.outbox.setWordWrap(True)
        self.capture = CapturePanel(pool, steady_frames=steady_frames, rate=rate)
        self.item = ItemFields()
        self.result = VerificationView()

        buttons = QHBoxLayout()
        for button in (self._policy_button, self._open, self._check, self.sync_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self._policy)
        left.addWidget(self._facts)
        left.addWidget(self.outbox)
        left.addWidget(self.capture, 1)
        left.addWidget(self.item)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.result)
        scroll.setMinimumWidth(340)
        panes = QHBoxLayout()
        panes.addLayout(left, 3)
        panes.addWidget(scroll, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(panes, 1)

        self._policy_button.clicked.connect(self._on_policy_clicked)
        self._open.clicked.connect(self._on_open_clicked)
        self._check.clicked.connect(self._on_check_clicked)
        self.sync_button.clicked.connect(self.sync)
        self.capture.status.connect(self.status)
        self.capture.captured.connect(self._on_captured)
        self._update_buttons()

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Decide verdicts with ``thresholds`` (from `Settings`) from now on."""
        self._params = thresholds.params()

    def set_workspace(self, workspace: Workspace) -> None:
        """Default to ``workspace``'s policy; sync events into its ledger."""
        self._workspace = workspace
        self._update_buttons()

    def set_sync_target(self, target: str, policy_file: Path | None) -> None:
        """Sync events to ``target`` (`Settings.registry`) under ``policy_file`` when it is
        an http(s) URL, else to the local ledger."""
        self._server = (target, policy_file) if is_remote(target) else None
        where = target if self._server else "the local ledger"
        self.sync_button.setToolTip(f"Send the queued verification events to {where}")

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
        """Show and verify the image at ``path`` against the open bundle, offline."""
        self.capture.open_image(path)

    @Slot()
    def sync(self) -> None:
        """Send the queued events to the registry server chosen in Settings, else to the
        local ledger, in the thread pool."""
        ws = self._workspace
        if self._inspection is None or ws is None or self._syncing:
            return
        outbox = self._inspection.outbox
        if self._server is None:
            task = Task(partial(sync_outbox, outbox, ws.registry))
        else:
            url, policy_file = self._server
            task = Task(
                partial(sync_to_server, outbox, url, policy_file, ws.policy, ws.places.state)
            )
        task.signals.done.connect(self._on_synced)
        task.signals.failed.connect(self._on_sync_failed)
        self._set_syncing(True)
        self._pool.start(task)

    @Slot(object)
    def _on_captured(self, captured: Analysed) -> None:
        unread = None if captured.analysis.serial else captured.analysis.instructions()
        self._verify(captured.frame, unread)

    def _verify(self, frame: Frame, unread: tuple[str, ...] | None) -> None:
        """Check ``frame``; ``unread`` holds the instructions when its code was not read."""
        if self._inspection is None or self._workspace is None:
            self.status.emit("Open a bundle first: offline checks run against it")
            return
        try:
            typed = self.item.for_capture(code_read=unread is None)
        except TypedItemError as exc:
            self._on_verify_failed(exc)
            return
        if typed is None:
            self.result.show_unreadable(unread or ())
            return
        gtin, serial = typed
        self._checks.submit(
            partial(
                verify_and_explain,
                frame.image,
                registry=self._inspection.registry,
                serial=serial,
                gtin=gtin,
                params=self._params,
                device=self._workspace.device,
            )
        )
        self.result.show_busy()

    @Slot(object)
    def _on_opened(self, inspection: Inspection) -> None:
        self._inspection = inspection
        while self._form.rowCount():
            self._form.removeRow(0)
        for label, text in present.bundle_rows(inspection.bundle, inspection.trust):
            value = QLabel(text)
            value.setWordWrap(True)
            self._form.addRow(f"{label}:", value)
        self._show_outbox()
        self._update_buttons()
        self.status.emit(f"Bundle {inspection.bundle.path.name} verified")
        self.opened.emit(inspection)

    @Slot(object)
    def _on_open_failed(self, error: Exception) -> None:
        self._show_message(f"REFUSED — {type(error).__name__}: {error}")
        self._update_buttons()
        self.status.emit(f"Bundle refused: {error}")

    @Slot(object)
    def _on_verified(self, explained: Explained) -> None:
        self.result.show_verification(explained)
        self._show_outbox()
        self.verified.emit(explained.verification)

    @Slot(object)
    def _on_verify_failed(self, error: Exception) -> None:
        self.result.show_error(error)

    @Slot(object)
    def _on_synced(self, sent: int) -> None:
        self._set_syncing(False)
        self._show_outbox()
        where = self._server[0] if self._server else "the local ledger"
        self.status.emit(f"Synced {sent} verification events to {where}")
        self.synced.emit(sent)

    @Slot(object)
    def _on_sync_failed(self, error: Exception) -> None:
        self._set_syncing(False)
        self._show_outbox()
        self.status.emit(f"Sync stopped, the rest stay queued: {error}")

    def _show_outbox(self) -> None:
        if self._inspection is None:
            return
        outbox = self._inspection.outbox
        self._queued = len(outbox.pending())
        self.outbox.setText(present.outbox_line(self._queued, outbox.path))
        self._update_buttons()

    def _show_message(self, text: str) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self._message = QLabel(text)
        self._message.setWordWrap(True)
        self._form.addRow(self._message)

    def _set_syncing(self, syncing: bool) -> None:
        self._syncing = syncing
        self._update_buttons()

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
        self.sync_button.setEnabled(self._queued > 0 and not self._syncing)
