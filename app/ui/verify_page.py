"""Verify: capture an item live, check it against the ledger, show one big verdict; or
identify it by its surface alone when its code is destroyed or unregistered."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QThreadPool, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.capture.source import Frame
from app.flows.explain import Explained, verify_and_explain
from app.flows.identify import Identification, Outcome, cached_index, identify
from app.flows.verify import TypedItemError
from app.jobs import Workspace
from app.settings import Thresholds
from app.tasks import LatestOnly, Task
from app.ui.widgets.capture_panel import (
    ANALYSIS_RATE,
    STEADY_FRAMES,
    Analysed,
    CapturePage,
    CapturePanel,
)
from app.ui.widgets.item_fields import ItemFields
from app.ui.widgets.result import VerificationView
from fingerprint.image import ImageInput
from fingerprint.params import MatchParams
from registry_client.registry import Registry

INDEX_FILE = "ledger-index.hmix"
"""The identification index of the open ledger, in the state folder (`cached_index`)."""


class VerifyPage(CapturePage):
    """A capture panel, the item (typed when its code is unreadable) and place, and the
    result of the last check.

    Auto-captured frames are verified as they come; one that arrives while a check runs
    waits (only the newest: `LatestOnly`), so nothing piles up. Each check is
    logged as a verification event signed by this computer's device key. **Identify**
    finds the frame's item among all the ledger's (`app.flows.identify`) and, when it is
    genuine, fills the item fields so that **Verify** gives the full verdict.
    """

    status = Signal(str)
    verified = Signal(object)
    """Emitted with each `Verification` after it is shown."""
    live_frame_shown = Signal()
    identified = Signal(object)
    """Emitted with each `Identification` after it is shown."""

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
        self._checks = LatestOnly(pool, parent=self)
        self._checks.done.connect(self._on_verified)
        self._checks.failed.connect(self._on_verify_failed)
        self._identifying = False
        self.setAcceptDrops(True)

        self.capture = CapturePanel(pool, steady_frames=steady_frames, rate=rate)
        self.live = self.capture.live
        self.item = ItemFields()
        self.place = QLineEdit()
        self.place.setPlaceholderText("shop name, or lat,lon")
        self.place.setToolTip("Logged with each scan; scans far apart in place are flagged")
        place_label = QLabel("&Place:")
        place_label.setBuddy(self.place)
        self.verify_button = QPushButton("&Verify")
        self.verify_button.setDefault(True)
        self.identify_button = QPushButton("&Identify")
        self.identify_button.setToolTip(
            "Find which registered item this is by its surface alone (code destroyed or "
            "not registered)"
        )
        self.identification = QLabel()
        self.identification.setWordWrap(True)
        self.identification.setAccessibleName("Identification")
        self.result = VerificationView()

        check_row = QHBoxLayout()
        row: tuple[QWidget, ...] = (
            self.item,
            place_label,
            self.place,
            self.verify_button,
            self.identify_button,
        )
        for widget in row:
            check_row.addWidget(widget)
        left = QVBoxLayout()
        left.addWidget(self.capture, 1)
        left.addLayout(check_row)
        left.addWidget(self.identification)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.result)
        scroll.setMinimumWidth(340)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addWidget(scroll, 2)
        self.setTabOrder(self.item.gtin, self.place)
        self.setTabOrder(self.place, self.verify_button)
        self.setTabOrder(self.verify_button, self.identify_button)

        self.capture.status.connect(self.status)
        self.capture.frame_shown.connect(self._on_frame_shown)
        self.capture.captured.connect(self._on_captured)
        self.verify_button.clicked.connect(self.verify_current)
        self.identify_button.clicked.connect(self.identify_current)
        self._update_buttons()

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Decide verdicts with ``thresholds`` (from `Settings`) from now on."""
        self._params = thresholds.params()

    def set_workspace(self, workspace: Workspace) -> None:
        """Check against ``workspace``'s ledger from now on."""
        self._workspace = workspace
        self._update_buttons()

    def open_image(self, path: Path) -> None:
        """Show the image at ``path`` and verify it as soon as it is read."""
        self.capture.open_image(path)

    @Slot()
    def verify_current(self) -> None:
        """Check the frame on screen against the ledger, in the thread pool."""
        frame = self.live.last_frame()
        if frame is not None:
            self._verify(frame)

    @Slot()
    def identify_current(self) -> None:
        """Find the frame on screen among the ledger's items, in the thread pool."""
        ws, frame = self._workspace, self.live.last_frame()
        if ws is None or frame is None or self._identifying:
            return
        index_file = ws.places.state / INDEX_FILE
        task = Task(partial(_identify, frame.image, ws.registry, index_file))
        task.signals.done.connect(self._on_identified)
        task.signals.failed.connect(self._on_identify_failed)
        self._identifying = True
        self.identification.setText("Identifying: searching the ledger's items…")
        self._update_buttons()
        self._pool.start(task)

    def _verify(self, frame: Frame, unread: tuple[str, ...] | None = None) -> None:
        """Check ``frame``; ``unread`` holds the instructions when its code was not read."""
        ws = self._workspace
        if ws is None:
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
                registry=ws.registry,
                serial=serial,
                gtin=gtin,
                params=self._params,
                device=ws.device,
                place=self.place.text().strip() or None,
            )
        )
        self.result.show_busy()
        self._update_buttons()

    @Slot()
    def _on_frame_shown(self) -> None:
        self.live_frame_shown.emit()
        self._update_buttons()

    @Slot(object)
    def _on_captured(self, captured: Analysed) -> None:
        unread = None if captured.analysis.serial else captured.analysis.instructions()
        self._verify(captured.frame, unread)

    @Slot(object)
    def _on_verified(self, explained: Explained) -> None:
        self.result.show_verification(explained)
        self.verified.emit(explained.verification)
        self._update_buttons()

    @Slot(object)
    def _on_verify_failed(self, error: Exception) -> None:
        self.result.show_error(error)
        self.status.emit(f"Verification failed: {error}")
        self._update_buttons()

    @Slot(object)
    def _on_identified(self, result: Identification) -> None:
        self._identifying = False
        self.identification.setText(describe(result))
        best = result.best
        if result.outcome is Outcome.IDENTIFIED and best is not None:
            item = best.proven.record.item
            self.item.serial.setText(item.serial)
            self.item.gtin.setText(item.gtin)
        self.identified.emit(result)
        self._update_buttons()

    @Slot(object)
    def _on_identify_failed(self, error: Exception) -> None:
        self._identifying = False
        self.identification.setText(f"Identification failed: {error}")
        self.status.emit(f"Identification failed: {error}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_frame = self._workspace is not None and self.live.last_frame() is not None
        self.verify_button.setEnabled(has_frame and self._checks.idle)
        self.identify_button.setEnabled(has_frame and not self._identifying)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            self.open_image(Path(files[0]))
            event.acceptProposedAction()


def _identify(image: ImageInput, registry: Registry, index_file: Path) -> Identification:
    """`identify` ``image`` in ``registry``, through its index cached in ``index_file``."""
    return identify(image, registry=registry, index=cached_index(registry, index_file))


def describe(result: Identification) -> str:
    """One line for people: the best candidate and the matcher's verdict, or why none."""
    best = result.best
    if best is None:
        return "Not found: no registered item has a code near this surface's"
    label, match = best.ranked.candidate.label, best.ranked.match
    verdict = f"{label}: {match.decision.value}, score {match.score:+.2f}"
    if result.outcome is Outcome.IDENTIFIED:
        return f"Identified {verdict}. Press Verify for the full verdict and history."
    if result.outcome is Outcome.RETAKE:
        reasons = "; ".join(str(issue) for issue in match.issues) or "too little evidence"
        return f"Retake: nearest {verdict} ({reasons})"
    return f"Not found: the nearest, {verdict}, is not this item"
