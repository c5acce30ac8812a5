"""A capture panel: choose a source, watch it live with guidance, capture automatically.

Frames come from a `FrameFeed`; each is analysed (`app.flows.live.analyse`) in the
thread pool through `LatestOnly`, so at most one analysis runs and one waits, at a
bounded rate. How a source is read depends on what it is:

- **live** (camera, stream): the newest frame only, shown at once with the outline of
  the latest analysis; frames the analysis cannot keep up with are dropped.
  Auto-capture fires when quality held for ``steady_frames`` frames.
- **played** (a video file as a camera): every frame is analysed and shown with its own
  outline, the file read only as fast as the analysis goes (a paced feed).
  Auto-capture as for live sources.
- **still** (image files, a folder, phone photos): each picture is a capture someone
  chose to take: every one is analysed and captured, whatever its quality, so that a
  poor photo gets a *retake* verdict with its reasons instead of silence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import QThreadPool, Signal, Slot
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
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
from app.flows.live import LiveAnalysis, Steadiness, analyse
from app.tasks import LatestOnly
from app.ui.widgets.live_view import LiveView

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"
STEADY_FRAMES = 3
"""Good frames in a row before a live source's auto-capture."""
ANALYSIS_RATE = 8.0
"""Analyses per second at most."""
CLOSE_WAIT = 2.0
"""Seconds a closing page waits for its source's thread."""


class SourceKind(enum.StrEnum):
    """Where frames come from; the value is the menu text."""

    CAMERA = "Camera"
    IMAGE = "Image file"
    FOLDER = "Folder of images"
    VIDEO = "Video file"
    STREAM = "MJPEG / snapshot URL"
    PHONE = "Phone (scan a QR code)"


class Mode(enum.StrEnum):
    """How a source is read (see the module docstring)."""

    LIVE = "live"
    PLAYED = "played"
    STILL = "still"


@dataclass(frozen=True, slots=True, kw_only=True)
class Analysed:
    """A frame and what the live analysis found in it."""

    frame: Frame
    analysis: LiveAnalysis


class CapturePanel(QWidget):
    """Source controls, the live view with guidance, and auto-capture.

    ``analysed`` carries every `Analysed` frame, ``captured`` those auto-capture took,
    ``frame_shown`` follows each frame drawn, ``ended`` comes once a source has ended
    (or was stopped) and its last frame was analysed.
    """

    status = Signal(str)
    frame_shown = Signal()
    analysed = Signal(object)
    captured = Signal(object)
    ended = Signal()

    def __init__(
        self,
        pool: QThreadPool,
        *,
        steady_frames: int = STEADY_FRAMES,
        rate: float = ANALYSIS_RATE,
        kind: SourceKind = SourceKind.IMAGE,
        parent: QWidget | None = None,
    ) -> None:
        """``kind`` is the source offered first."""
        super().__init__(parent)
        self._feed: FrameFeed | None = None
        self.phone_videos = False
        """Whether the phone page offers a short video too (a hologram's tilt burst)."""
        self.camera = ""
        """The camera the Camera source opens (``QCameraDevice.id``, `Settings.camera`);
        empty for the system default."""
        self._mode = Mode.LIVE
        self._ending = False
        self._steady = Steadiness(steady_frames)
        self._analyser = LatestOnly(pool, rate=rate, parent=self)
        self._analyser.done.connect(self._on_analysed)
        self._analyser.failed.connect(self._on_analysis_failed)

        self._kind = QComboBox()
        self._kind.addItems([kind.value for kind in SourceKind])
        self._kind.setCurrentText(kind.value)
        self._kind.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self._kind.setMinimumContentsLength(12)
        kind_label = QLabel("&Source:")
        kind_label.setBuddy(self._kind)
        self._open = QPushButton("&Open…")
        self._stop = QPushButton("S&top")
        self.auto = QCheckBox("&Auto-capture")
        self.auto.setChecked(True)
        self.auto.setToolTip(f"Capture when the quality holds for {steady_frames} frames in a row")
        self.live = LiveView()
        self._qr = QLabel()
        self._qr.setVisible(False)

        controls = QHBoxLayout()
        row: tuple[QWidget, ...] = (kind_label, self._kind, self._open, self._stop)
        for widget in row:
            controls.addWidget(widget)
        controls.addStretch(1)
        under = QHBoxLayout()
        under.addWidget(self.auto)
        under.addStretch(1)
        under.addWidget(self._qr)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.live, 1)
        layout.addLayout(under)

        self._open.clicked.connect(self._on_open_clicked)
        self._stop.clicked.connect(self.stop_source)
        self._update_buttons()

    @property
    def running(self) -> bool:
        """Whether a source is being read."""
        return self._feed is not None

    @property
    def dropped(self) -> int:
        """Frames not analysed because newer ones came (live sources)."""
        return self._analyser.dropped + (self._feed.dropped if self._feed else 0)

    def open_image(self, path: Path) -> None:
        """Show and capture the image at ``path``."""
        self.open_source(ImageFiles([path]), Mode.STILL)

    def open_source(self, source: FrameSource, mode: Mode = Mode.LIVE) -> bool:
        """Read ``source`` in ``mode``, replacing the current source; ``False`` if it
        could not be opened (the reason is shown)."""
        self.stop_source()
        feed = FrameFeed(source, drop_stale=mode is Mode.LIVE, paced=mode is not Mode.LIVE)
        feed.setParent(self)
        feed.frame.connect(self._on_frame)
        feed.failed.connect(self._on_capture_failed)
        feed.finished.connect(self._on_feed_finished)
        try:
            feed.start()
        except CaptureError as exc:
            feed.deleteLater()
            self._on_capture_failed(exc)
            return False
        self._feed, self._mode, self._ending = feed, mode, False
        self._kind.setCurrentText(_kind_of(source).value)
        self._steady.reset()
        self.live.show_analysis(None)
        self.status.emit(f"Showing {source.describe()}")
        self._update_buttons()
        return True

    def open_phone(self, phone: PhoneSource | None = None) -> PhoneSource | None:
        """Serve the phone page and show its pairing QR code; the source, if it opened."""
        phone = phone or PhoneSource(videos=self.phone_videos)
        if not self.open_source(phone, Mode.STILL):
            return None
        self._qr.setPixmap(QPixmap.fromImage(QImage.fromData(phone.qr_png(scale=4))))
        self._qr.setToolTip(phone.url())
        self._qr.setVisible(True)
        self.live.set_hint(f"Scan the QR code with the phone, or open {phone.url()}")
        return phone

    @Slot()
    def stop_source(self) -> None:
        """Stop reading the current source (its last frame stays on screen)."""
        if self._feed is not None:
            self._feed.stop()
            self._feed.ack()
            self._feed = None
        self._analyser.cancel()
        self._qr.setVisible(False)
        self._update_buttons()

    def shutdown(self, timeout: float) -> None:
        """Stop the source and wait up to ``timeout`` s for its thread (closing the app)."""
        feed = self._feed
        self.stop_source()
        if feed is not None:
            feed.wait(timeout)

    @Slot(object)
    def _on_frame(self, frame: Frame) -> None:
        if self._mode is Mode.LIVE:  # show at once; the outline follows its analysis
            self._show(frame)
        self._analyser.submit(partial(_analyse, frame))

    def _show(self, frame: Frame) -> None:
        self.live.show_frame(frame)
        self.frame_shown.emit()

    @Slot(object)
    def _on_analysed(self, result: Analysed) -> None:
        if self._mode is Mode.STILL:
            self._steady.reset()
        if self._mode is not Mode.LIVE:  # a file: each frame with its own outline
            self._show(result.frame)
        fire = self._steady.observe(result.analysis)
        progress = 0.0 if self._mode is Mode.STILL else self._steady.progress
        self.live.show_analysis(result.analysis, progress)
        self.analysed.emit(result)
        if self._mode is Mode.STILL or (fire and self.auto.isChecked()):
            self.captured.emit(result)
        self._next_frame()

    @Slot(object)
    def _on_analysis_failed(self, error: Exception) -> None:
        self.live.set_hint(f"Cannot analyse this frame: {error}")
        self._next_frame()

    def _next_frame(self) -> None:
        if self._feed is not None:
            self._feed.ack()
        elif self._ending and self._analyser.idle:
            self._ending = False
            self.ended.emit()

    @Slot()
    def _on_feed_finished(self) -> None:
        feed = self.sender()
        if isinstance(feed, FrameFeed):
            feed.deleteLater()
        if feed is not self._feed and self._feed is not None:
            return  # replaced by another source
        self._feed = None
        self._update_buttons()
        self._ending = True
        if self._analyser.idle:
            self._next_frame()

    @Slot(object)
    def _on_capture_failed(self, error: Exception) -> None:
        self.live.set_hint(str(error))
        self.status.emit(f"Capture: {error}")

    @Slot()
    def _on_open_clicked(self) -> None:
        kind = SourceKind(self._kind.currentText())
        if kind is SourceKind.IMAGE:
            path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", IMAGE_FILTER)
            if path:
                self.open_image(Path(path))
        elif kind is SourceKind.FOLDER:
            if folder := QFileDialog.getExistingDirectory(self, "Open a folder of images"):
                self.open_source(ImageFiles(Path(folder)), Mode.STILL)
        elif kind is SourceKind.VIDEO:
            path, _ = QFileDialog.getOpenFileName(self, "Open a video", "", "Videos (*)")
            if path:
                self.open_source(VideoFile(Path(path)), Mode.PLAYED)
        elif kind is SourceKind.STREAM:
            url, ok = QInputDialog.getText(self, "Stream", "MJPEG or JPEG snapshot URL:")
            if ok and url.strip():
                self.open_source(MjpegUrl(url.strip()))
        elif kind is SourceKind.PHONE:
            self.open_phone()
        else:
            self.open_camera()

    def open_camera(self) -> None:
        """Read the camera `camera` names (the default one if empty)."""
        from app.capture.camera import QtCamera  # loads QtMultimedia

        self.open_source(QtCamera(self.camera or None))

    def _update_buttons(self) -> None:
        self._stop.setEnabled(self._feed is not None)


def _kind_of(source: FrameSource) -> SourceKind:
    """The menu entry that opens sources like ``source``."""
    if isinstance(source, ImageFiles):
        return SourceKind.IMAGE if source.folder is None else SourceKind.FOLDER
    if isinstance(source, VideoFile):
        return SourceKind.VIDEO
    if isinstance(source, MjpegUrl):
        return SourceKind.STREAM
    return SourceKind.PHONE if isinstance(source, PhoneSource) else SourceKind.CAMERA


def _analyse(frame: Frame) -> Analysed:
    return Analysed(frame=frame, analysis=analyse(frame.image))


class CapturePage(QWidget):
    """A mode page around a `CapturePanel` (``self.capture``): closing it stops the source."""

    capture: CapturePanel

    def shutdown(self, timeout: float) -> None:
        """Stop the source and wait up to ``timeout`` s for its thread (closing the app)."""
        self.capture.shutdown(timeout)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown(CLOSE_WAIT)
        super().closeEvent(event)
