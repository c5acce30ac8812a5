"""``QtCamera`` on a machine with no camera, and the pure parts that pick formats and
controls. The frame path is tested through ``SinkReader``, fed like a camera feeds it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtMultimedia import QCamera, QCameraDevice, QVideoFrame
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.capture import camera
from app.capture.camera import (
    CameraControls,
    CameraFormat,
    CameraSettings,
    FocusMode,
    QtCamera,
    SinkReader,
    choose_format,
    list_cameras,
    to_bgr,
)
from app.capture.errors import SourceNotFound, UnsupportedSetting

_FORMATS = (
    CameraFormat(width=640, height=480, min_fps=5, max_fps=30, pixel_format="Format_YUYV"),
    CameraFormat(width=1920, height=1080, min_fps=5, max_fps=5, pixel_format="Format_YUYV"),
    CameraFormat(width=1920, height=1080, min_fps=5, max_fps=30, pixel_format="Format_Jpeg"),
)


@pytest.mark.usefixtures("qapp")
def test_no_camera_is_listed_here() -> None:
    assert list_cameras() == []


@pytest.mark.usefixtures("qapp")
@pytest.mark.parametrize(
    ("device_id", "message"),
    [
        (None, r"camera \(default\) not found; available: none"),
        ("usb-0000:00:14.0-1", r"camera usb-0000:00:14\.0-1 not found; available: none"),
    ],
)
def test_opening_a_missing_camera_says_so(device_id: str | None, message: str) -> None:
    camera = QtCamera(device_id)
    with pytest.raises(SourceNotFound, match=message) as caught:
        camera.open()
    assert caught.value.available == ()
    assert camera.controls() is None
    camera.close()


def test_a_camera_is_opened_on_the_qt_main_thread_only(qapp: QApplication) -> None:
    errors: list[Exception] = []

    def open_elsewhere() -> None:
        try:
            QtCamera().open()
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=open_elsewhere)
    thread.start()
    thread.join()
    assert [str(e) for e in errors] == ["QtCamera.open() must be called on the Qt main thread"]


def test_to_bgr_copies_pixels_row_by_row(qapp: QApplication) -> None:
    image = QImage(33, 5, QImage.Format.Format_RGB32)  # 33 × 3 bytes: rows get padded
    image.fill(QColor(10, 20, 30))
    image.setPixelColor(32, 4, QColor(200, 100, 50))
    pixels = to_bgr(QVideoFrame(image))
    assert pixels.shape == (5, 33, 3) and pixels.dtype == np.uint8
    assert pixels[0, 0].tolist() == [30, 20, 10]
    assert pixels[4, 32].tolist() == [50, 100, 200]


def test_a_sink_reader_turns_video_frames_into_frames(qapp: QApplication) -> None:
    reader = SinkReader(label="camera test")
    for shade in (40, 80):
        image = QImage(64, 48, QImage.Format.Format_RGB32)
        image.fill(QColor(shade, shade, shade))
        reader.sink.setVideoFrame(QVideoFrame(image))
    frame = reader.frames.get(timeout=0)
    assert frame is not None
    assert (frame.index, frame.source, frame.image.shape) == (1, "camera test", (48, 64, 3))
    assert int(frame.image[0, 0, 0]) == 80  # newest only
    reader.sink.setVideoFrame(QVideoFrame())  # an empty frame (camera stopping) is ignored
    assert reader.frames.get(timeout=0) is None


class _PresentCamera(QCamera):
    """A camera without a device that reports no error, so a session opens here."""

    def error(self) -> QCamera.Error:
        return QCamera.Error.NoError


def test_a_camera_closed_by_the_feed_thread_is_deleted_on_the_ui_thread(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feed closes its source on its worker, which drops the session's last Python
    reference there; the camera behind it belongs to the UI thread and must die there."""
    monkeypatch.setattr(camera, "QCamera", _PresentCamera)
    monkeypatch.setattr(QtCamera, "_find_device", lambda _self: QCameraDevice())
    source = QtCamera()
    source.open()
    destroyed_on: list[str] = []
    session = source._session
    assert session is not None
    session.destroyed.connect(
        lambda: destroyed_on.append(threading.current_thread().name),
        Qt.ConnectionType.DirectConnection,
    )
    del session
    worker = threading.Thread(target=source.close, name="feed worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(destroyed_on), timeout=5_000)
    assert destroyed_on == [threading.main_thread().name]


def test_controls_of_a_camera_without_device(qapp: QApplication) -> None:
    controls = CameraControls.of(QCamera())
    assert not (controls.focus_distance or controls.exposure_time)


def test_format_choice_prefers_the_fastest_of_the_size() -> None:
    assert choose_format(_FORMATS, CameraSettings()) is None
    chosen = choose_format(_FORMATS, CameraSettings(resolution=(1920, 1080)))
    assert chosen == _FORMATS[2]
    assert choose_format(_FORMATS, CameraSettings(min_fps=25)) == _FORMATS[0]


def test_format_choice_lists_what_is_offered() -> None:
    settings = CameraSettings(resolution=(1920, 1080), min_fps=60)
    with pytest.raises(UnsupportedSetting, match="1920×1080 at 60 fps or more") as caught:
        choose_format(_FORMATS, settings)
    assert caught.value.offered == (
        "1920×1080 up to 30 fps",
        "1920×1080 up to 5 fps",
        "640×480 up to 30 fps",
    )


def test_controls_the_camera_lacks_are_refused_by_name() -> None:
    controls = CameraControls(
        focus_modes=frozenset({FocusMode.AUTO, FocusMode.MANUAL}),
        focus_distance=True,
        exposure_compensation=False,
        exposure_time=True,
    )
    controls.check(CameraSettings(focus=FocusMode.MANUAL, focus_distance=0.2, exposure_time=0.002))
    with pytest.raises(UnsupportedSetting, match="focus mode auto-near; it offers auto, manual"):
        controls.check(CameraSettings(focus=FocusMode.AUTO_NEAR))
    with pytest.raises(UnsupportedSetting, match="exposure compensation -1; it offers nothing"):
        controls.check(CameraSettings(exposure_compensation=-1.0))
