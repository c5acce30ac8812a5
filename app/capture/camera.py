"""``QtCamera``: USB/UVC and built-in cameras through QtMultimedia, as a frame source.

``list_cameras`` names what is connected, with the formats each offers; ``QtCamera``
opens one, picks the requested format, applies focus and exposure controls where the
camera offers them, and keeps its newest frame (through ``SinkReader``, which turns any
``QVideoSink``'s frames into ``Frame``\\ s). On Linux the backend is FFmpeg; with no
camera connected ``list_cameras()`` is ``[]`` and opening raises ``SourceNotFound``.

Qt objects live on the Qt main thread, so ``open`` must be called there (``FrameFeed``
does); ``read`` and ``close`` may be called from any thread.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import (
    QCamera,
    QCameraDevice,
    QCameraFormat,
    QMediaCaptureSession,
    QMediaDevices,
    QVideoFrame,
    QVideoSink,
)

from app.capture.buffer import FrameBuffer
from app.capture.errors import (
    SourceFailed,
    SourceNotFound,
    StreamEnded,
    UnreadableImage,
    UnsupportedSetting,
)
from app.capture.source import Frame, FrameSource


class FocusMode(enum.StrEnum):
    """Focus modes a camera may offer (``QCamera.FocusMode``)."""

    AUTO = "auto"
    AUTO_NEAR = "auto-near"
    AUTO_FAR = "auto-far"
    HYPERFOCAL = "hyperfocal"
    INFINITY = "infinity"
    MANUAL = "manual"


_QT_FOCUS = {
    FocusMode.AUTO: QCamera.FocusMode.FocusModeAuto,
    FocusMode.AUTO_NEAR: QCamera.FocusMode.FocusModeAutoNear,
    FocusMode.AUTO_FAR: QCamera.FocusMode.FocusModeAutoFar,
    FocusMode.HYPERFOCAL: QCamera.FocusMode.FocusModeHyperfocal,
    FocusMode.INFINITY: QCamera.FocusMode.FocusModeInfinity,
    FocusMode.MANUAL: QCamera.FocusMode.FocusModeManual,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraFormat:
    """One video format a camera offers."""

    width: int
    height: int
    min_fps: float
    max_fps: float
    pixel_format: str
    """Qt's name for the pixel layout, e.g. ``"Format_Jpeg"`` or ``"Format_YUYV"``."""

    @property
    def size(self) -> str:
        return f"{self.width}×{self.height}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraInfo:
    """A connected camera: ``id`` selects it in ``QtCamera``."""

    id: str
    description: str
    is_default: bool
    formats: tuple[CameraFormat, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraSettings:
    """What to ask of a camera; ``None`` leaves the camera's own choice."""

    resolution: tuple[int, int] | None = None
    """(width, height) in pixels; the camera must offer exactly this size."""
    min_fps: float | None = None
    focus: FocusMode | None = None
    focus_distance: float | None = None
    """0 (nearest) to 1 (infinity); needs ``focus=FocusMode.MANUAL``."""
    exposure_compensation: float | None = None
    """In EV steps, e.g. -1.0 for a shiny label."""
    exposure_time: float | None = None
    """Manual exposure in seconds, e.g. 1/500 on a moving line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraControls:
    """The controls an active camera offers."""

    focus_modes: frozenset[FocusMode]
    focus_distance: bool
    exposure_compensation: bool
    exposure_time: bool

    @classmethod
    def of(cls, camera: QCamera) -> CameraControls:
        features = camera.supportedFeatures()
        return cls(
            focus_modes=frozenset(
                mode for mode, qt_mode in _QT_FOCUS.items() if camera.isFocusModeSupported(qt_mode)
            ),
            focus_distance=bool(features & QCamera.Feature.FocusDistance),
            exposure_compensation=bool(features & QCamera.Feature.ExposureCompensation),
            exposure_time=bool(features & QCamera.Feature.ManualExposureTime),
        )

    def check(self, settings: CameraSettings) -> None:
        """Raise ``UnsupportedSetting`` for the first control ``settings`` asks in vain."""
        if settings.focus is not None and settings.focus not in self.focus_modes:
            modes = sorted(self.focus_modes)
            raise UnsupportedSetting("focus mode", settings.focus, offered=modes)
        wanted = (
            ("focus distance", settings.focus_distance, self.focus_distance),
            ("exposure compensation", settings.exposure_compensation, self.exposure_compensation),
            ("exposure time", settings.exposure_time, self.exposure_time),
        )
        for name, value, available in wanted:
            if value is not None and not available:
                raise UnsupportedSetting(name, f"{value:g}", offered=())


def list_cameras() -> list[CameraInfo]:
    """The cameras connected now, the system default first."""
    default = QMediaDevices.defaultVideoInput()
    cameras = [_info(device, default) for device in QMediaDevices.videoInputs()]
    return sorted(cameras, key=attrgetter("is_default"), reverse=True)  # stable


def choose_format(formats: Sequence[CameraFormat], settings: CameraSettings) -> CameraFormat | None:
    """The format to ask for, or ``None`` to keep the camera's default.

    Among formats of the requested size (and at least ``min_fps``), the fastest wins.
    Raises ``UnsupportedSetting`` when none fits, listing what the camera offers.
    """
    if settings.resolution is None and settings.min_fps is None:
        return None
    fitting = [
        fmt
        for fmt in formats
        if (settings.resolution is None or (fmt.width, fmt.height) == settings.resolution)
        and (settings.min_fps is None or fmt.max_fps >= settings.min_fps)
    ]
    if not fitting:
        requested = "×".join(map(str, settings.resolution)) if settings.resolution else "any size"
        if settings.min_fps is not None:
            requested += f" at {settings.min_fps:g} fps or more"
        offered = sorted({f"{fmt.size} up to {fmt.max_fps:g} fps" for fmt in formats})
        raise UnsupportedSetting("format", requested, offered=offered)
    return max(fitting, key=attrgetter("max_fps"))


def to_bgr(video_frame: QVideoFrame) -> NDArray[np.uint8]:
    """A video frame's pixels as a BGR array, shape (H, W, 3), uint8 (a copy)."""
    image = video_frame.toImage().convertToFormat(QImage.Format.Format_BGR888)
    if image.isNull():
        raise ValueError(f"cannot convert a {video_frame.pixelFormat()} video frame")
    height, width = image.height(), image.width()
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(height, image.bytesPerLine())
    return rows[:, : width * 3].reshape(height, width, 3).copy()


class QtCamera(FrameSource):
    """Frames from a camera QtMultimedia can open; keeps only the newest."""

    def __init__(self, device_id: str | None = None, settings: CameraSettings | None = None):
        """``device_id`` is a ``CameraInfo.id``; ``None`` picks the system default."""
        self._device_id = device_id
        self._settings = settings or CameraSettings()
        self._session: _CameraSession | None = None

    def describe(self) -> str:
        return f"camera {self._device_id or '(default)'}"

    def open(self) -> None:
        """Start the camera; call on the Qt main thread.

        Raises ``SourceNotFound`` when no such camera is connected (listing those that
        are) and ``UnsupportedSetting`` for a format it does not offer. Errors once the
        camera runs, and controls it turns out not to offer, are raised by ``read``.
        """
        app = QCoreApplication.instance()
        if app is None or QThread.currentThread() != app.thread():
            raise RuntimeError("QtCamera.open() must be called on the Qt main thread")
        self.close()
        device = self._find_device()
        formats = tuple(_format(fmt) for fmt in device.videoFormats())
        fmt = choose_format(formats, self._settings)
        self._session = _CameraSession(device, fmt, self._settings, label=self.describe())

    def read(self, timeout: float) -> Frame | None:
        if self._session is None:
            raise RuntimeError("QtCamera.read() before open()")
        return self._session.reader.frames.get(timeout)

    def controls(self) -> CameraControls | None:
        """What the open camera offers, once it is running; ``None`` before."""
        return None if self._session is None else self._session.controls

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            reader = session.reader
            reader.frames.finish(StreamEnded(self.describe(), frames=reader.count))
            session.stop_requested.emit()  # queued to the main thread if called elsewhere

    def _find_device(self) -> QCameraDevice:
        devices = QMediaDevices.videoInputs()
        if self._device_id is None:
            device = QMediaDevices.defaultVideoInput()
            if not device.isNull():
                return device
        else:
            for device in devices:
                if _device_id(device) == self._device_id:
                    return device
        available = [f"{d.description()} ({_device_id(d)})" for d in devices]
        raise SourceNotFound(self.describe(), available=available)


class SinkReader(QObject):
    """Frames from a ``QVideoSink`` (a camera's, or a ``QMediaPlayer``'s), newest only."""

    def __init__(self, *, label: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sink = QVideoSink(self)
        self.frames = FrameBuffer(capacity=1, drop_oldest=True)
        self.count = 0
        self._label = label
        self._lock = threading.Lock()
        # Direct: convert on the thread that delivers the frame, not the UI thread.
        self.sink.videoFrameChanged.connect(self._on_frame, Qt.ConnectionType.DirectConnection)

    def detach(self) -> None:
        """Take no more frames from the sink: before deleting it, whose frames may
        arrive on another thread."""
        self.sink.videoFrameChanged.disconnect(self._on_frame)

    @Slot(QVideoFrame)
    def _on_frame(self, video_frame: QVideoFrame) -> None:
        if not video_frame.isValid():
            return
        with self._lock:
            index = self.count
            self.count += 1
        try:
            image = to_bgr(video_frame)
        except ValueError as exc:
            self.frames.put(UnreadableImage(f"frame {index}", str(exc)))
            return
        self.frames.put(
            Frame(image=image, timestamp=time.monotonic(), source=self._label, index=index)
        )


class _CameraSession(QObject):
    """The Qt side of one ``open``: camera → capture session → ``SinkReader``."""

    stop_requested = Signal()

    def __init__(
        self,
        device: QCameraDevice,
        fmt: CameraFormat | None,
        settings: CameraSettings,
        *,
        label: str,
    ) -> None:
        # A child of the application: `QtCamera.close` drops the last Python reference
        # on the feed's worker thread, which would otherwise destroy the camera there.
        super().__init__(QCoreApplication.instance())
        self._camera = QCamera(device, self)
        if self._camera.error() != QCamera.Error.NoError:  # e.g. unplugged since listed
            self.deleteLater()
            raise SourceFailed(label, self._camera.errorString())
        if fmt is not None:
            self._camera.setCameraFormat(_qt_format(device, fmt))
        self.reader = SinkReader(label=label, parent=self)
        self.controls: CameraControls | None = None
        self._settings = settings
        self._label = label
        self._capture = QMediaCaptureSession(self)
        self._capture.setCamera(self._camera)
        self._capture.setVideoSink(self.reader.sink)
        self._camera.errorOccurred.connect(self._on_error)
        self._camera.activeChanged.connect(self._on_active_changed)
        self.stop_requested.connect(self._stop)
        self._camera.start()

    @Slot(QCamera.Error, str)
    def _on_error(self, error: QCamera.Error, message: str) -> None:
        self.reader.frames.finish(SourceFailed(self._label, message or str(error)))

    @Slot(bool)
    def _on_active_changed(self, active: bool) -> None:
        if not active or self.controls is not None:
            return
        self.controls = CameraControls.of(self._camera)
        try:
            self.controls.check(self._settings)
        except UnsupportedSetting as exc:
            self.reader.frames.finish(exc)
            self._camera.stop()
            return
        _apply(self._camera, self._settings)

    @Slot()
    def _stop(self) -> None:
        self.reader.detach()
        self._camera.stop()
        self.deleteLater()


def _apply(camera: QCamera, settings: CameraSettings) -> None:
    """Set the controls ``CameraControls.check`` found offered."""
    if settings.focus is not None:
        camera.setFocusMode(_QT_FOCUS[settings.focus])
    if settings.focus_distance is not None:
        camera.setFocusDistance(settings.focus_distance)
    if settings.exposure_compensation is not None:
        camera.setExposureCompensation(settings.exposure_compensation)
    if settings.exposure_time is not None:
        camera.setExposureMode(QCamera.ExposureMode.ExposureManual)
        camera.setManualExposureTime(settings.exposure_time)


def _device_id(device: QCameraDevice) -> str:
    return bytes(device.id().data()).decode("utf-8", "replace")


def _info(device: QCameraDevice, default: QCameraDevice) -> CameraInfo:
    return CameraInfo(
        id=_device_id(device),
        description=device.description(),
        is_default=device == default,
        formats=tuple(_format(fmt) for fmt in device.videoFormats()),
    )


def _format(fmt: QCameraFormat) -> CameraFormat:
    size = fmt.resolution()
    return CameraFormat(
        width=size.width(),
        height=size.height(),
        min_fps=fmt.minFrameRate(),
        max_fps=fmt.maxFrameRate(),
        pixel_format=fmt.pixelFormat().name,
    )


def _qt_format(device: QCameraDevice, wanted: CameraFormat) -> QCameraFormat:
    for fmt in device.videoFormats():
        if _format(fmt) == wanted:
            return fmt
    raise UnsupportedSetting("format", wanted.size, offered=())  # the device changed under us
