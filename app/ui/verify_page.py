"""Verify: show a capture live, check it against the ledger, show one big verdict."""

from __future__ import annotations

import enum
from functools import partial
from pathlib import Path

from PySide6.QtCore import QThreadPool, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.capture.errors import CaptureError
from app.capture.feed import FrameFeed
from app.capture.files import ImageFiles
from app.capture.mjpeg import MjpegUrl
from app.capture.phone import PhoneSource
from app.capture.source import Frame, FrameSource
from app.capture.video import VideoFile
from app.flows.verify import Verification, verify
from app.jobs import Workspace
from app.tasks import Task
from app.ui.widgets.live_view import LiveView
from app.ui.widgets.result import VerificationView

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"


class SourceKind(enum.StrEnum):
    """Where frames come from; the value is the menu text."""

    IMAGE = "Image file"
    FOLDER = "Folder of images"
    VIDEO = "Video file"
    STREAM = "MJPEG / snapshot URL"
    PHONE = "Phone (scan a QR code)"
    CAMERA = "Camera"


class VerifyPage(QWidget):
    """A live view, the source controls, and the result of the last check."""

    status = Signal(str)
    verified = Signal(object)
    """Emitted with each `Verification` after it is shown."""
    live_frame_shown = Signal()

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._workspace: Workspace | None = None
        self._feed: FrameFeed | None = None
        self._auto_verify = False
        self._busy = False
        self.setAcceptDrops(True)

        self._kind = QComboBox()
        self._kind.addItems([kind.value for kind in SourceKind])
        kind_label = QLabel("&Source:")
        kind_label.setBuddy(self._kind)
        self._open = QPushButton("&Open…")
        self._stop = QPushButton("S&top")
        self._serial = QLineEdit()
        self._serial.setPlaceholderText("read from the code")
        serial_label = QLabel("S&erial:")
        serial_label.setBuddy(self._serial)
        self.verify_button = QPushButton("&Verify")
        self.verify_button.setDefault(True)
        self.live = LiveView()
        self._qr = QLabel()
        self._qr.setVisible(False)
        self.result = VerificationView()

        controls = QHBoxLayout()
        source_row: tuple[QWidget, ...] = (kind_label, self._kind, self._open, self._stop)
        for widget in source_row:
            controls.addWidget(widget)
        controls.addStretch(1)
        check_row: tuple[QWidget, ...] = (serial_label, self._serial, self.verify_button)
        for widget in check_row:
            controls.addWidget(widget)
        left = QVBoxLayout()
        left.addWidget(self.live, 1)
        left.addWidget(self._qr)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.result)
        scroll.setMinimumWidth(420)
        panes = QHBoxLayout()
        panes.addLayout(left, 3)
        panes.addWidget(scroll, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(panes, 1)
        self.setTabOrder(self._kind, self._open)
        self.setTabOrder(self._open, self._stop)
        self.setTabOrder(self._stop, self._serial)
        self.setTabOrder(self._serial, self.verify_button)

        self._open.clicked.connect(self._on_open_clicked)
        self._stop.clicked.connect(self.stop_source)
        self.verify_button.clicked.connect(self.verify_current)
        self._update_buttons()

    def set_workspace(self, workspace: Workspace) -> None:
        """Check against ``workspace``'s ledger from now on."""
        self._workspace = workspace
        self._update_buttons()

    def open_image(self, path: Path) -> None:
        """Show the image at ``path`` and verify it as soon as it is read."""
        self._auto_verify = True
        self.open_source(ImageFiles([path]))

    def open_source(self, source: FrameSource, *, drop_stale: bool = True) -> None:
        """Show frames from ``source`` in the live view, replacing the current source."""
        self.stop_source()
        feed = FrameFeed(source, drop_stale=drop_stale, parent=self)
        feed.frame.connect(self._on_frame)
        feed.failed.connect(self._on_capture_failed)
        feed.finished.connect(self._on_feed_finished)
        try:
            feed.start()
        except CaptureError as exc:
            feed.deleteLater()
            self._on_capture_failed(exc)
            return
        self._feed = feed
        self.status.emit(f"Showing {source.describe()}")
        self._update_buttons()

    @Slot()
    def stop_source(self) -> None:
        """Stop reading the current source (its last frame stays on screen)."""
        if self._feed is not None:
            self._feed.stop()
            self._feed = None
        self._qr.setVisible(False)
        self._update_buttons()

    def shutdown(self, timeout: float) -> None:
        """Stop the source and wait up to ``timeout`` s for its thread (closing the app)."""
        feed = self._feed
        self.stop_source()
        if feed is not None:
            feed.wait(timeout)

    @Slot()
    def verify_current(self) -> None:
        """Check the frame on screen against the ledger, in the thread pool."""
        frame = self.live.last_frame()
        if frame is None or self._workspace is None or self._busy:
            return
        serial = self._serial.text().strip() or None
        task = Task(partial(verify, frame.image, registry=self._workspace.registry, serial=serial))
        task.signals.done.connect(self._on_verified)
        task.signals.failed.connect(self._on_verify_failed)
        self._set_busy(True)
        self.result.show_busy()
        self._pool.start(task)

    @Slot()
    def _on_open_clicked(self) -> None:
        kind = SourceKind(self._kind.currentText())
        if kind is SourceKind.IMAGE:
            path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", IMAGE_FILTER)
            if path:
                self.open_image(Path(path))
        elif kind is SourceKind.FOLDER:
            if folder := QFileDialog.getExistingDirectory(self, "Open a folder of images"):
                self.open_source(ImageFiles(Path(folder)), drop_stale=False)
        elif kind is SourceKind.VIDEO:
            path, _ = QFileDialog.getOpenFileName(self, "Open a video", "", "Videos (*)")
            if path:
                self.open_source(VideoFile(Path(path)))
        elif kind is SourceKind.STREAM:
            url, ok = QInputDialog.getText(self, "Stream", "MJPEG or JPEG snapshot URL:")
            if ok and url.strip():
                self.open_source(MjpegUrl(url.strip()))
        elif kind is SourceKind.PHONE:
            self._open_phone()
        else:
            self._open_camera()

    def _open_phone(self) -> None:
        phone = PhoneSource()
        self.open_source(phone, drop_stale=False)
        if self._feed is not None:
            self._qr.setPixmap(QPixmap.fromImage(QImage.fromData(phone.qr_png(scale=4))))
            self._qr.setToolTip(phone.url())
            self._qr.setVisible(True)
            self.live.set_hint(f"Scan the QR code with the phone, or open {phone.url()}")

    def _open_camera(self) -> None:
        from app.capture.camera import QtCamera, list_cameras  # loads QtMultimedia

        cameras = list_cameras()
        self.open_source(QtCamera(cameras[0].id if cameras else None))

    @Slot(object)
    def _on_frame(self, frame: Frame) -> None:
        self.live.show_frame(frame)
        self.live_frame_shown.emit()
        if self._auto_verify:
            self._auto_verify = False
            self.verify_current()
        self._update_buttons()

    @Slot()
    def _on_feed_finished(self) -> None:
        feed = self.sender()
        if feed is self._feed:
            self._feed = None
            self._update_buttons()
        feed.deleteLater()

    @Slot(object)
    def _on_capture_failed(self, error: Exception) -> None:
        self._auto_verify = False
        self.live.set_hint(str(error))
        self.status.emit(f"Capture: {error}")

    @Slot(object)
    def _on_verified(self, verification: Verification) -> None:
        self._set_busy(False)
        self.result.show_verification(verification)
        self.verified.emit(verification)

    @Slot(object)
    def _on_verify_failed(self, error: Exception) -> None:
        self._set_busy(False)
        self.result.show_error(error)
        self.status.emit(f"Verification failed: {error}")

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self._workspace is not None and not self._busy
        self.verify_button.setEnabled(ready and self.live.last_frame() is not None)
        self._stop.setEnabled(self._feed is not None)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            self.open_image(Path(files[0]))
            event.acceptProposedAction()
