"""``FrameFeed``: frames from a worker thread to the UI thread, via ``qtbot.waitSignal``."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from capture_samples import FakeClock, jpeg, marker
from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot
from pytestqt.qtbot import QtBot

from app.capture.errors import SourceFailed, SourceNotFound, UnreadableImage
from app.capture.feed import FrameFeed
from app.capture.files import ImageFiles
from app.capture.phone import PhoneSource
from app.capture.source import Frame, FrameSource
from app.capture.video import VideoFile


class _Recorder(QObject):
    """What a page would do with the feed: bound slots, on the UI thread."""

    def __init__(self, feed: FrameFeed) -> None:
        super().__init__()
        self.frames: list[Frame] = []
        self.errors: list[Exception] = []
        self.off_ui_thread = 0
        feed.frame.connect(self.on_frame)
        feed.failed.connect(self.on_failed)

    @Slot(object)
    def on_frame(self, frame: Frame) -> None:
        app = QCoreApplication.instance()
        assert app is not None
        self.off_ui_thread += QThread.currentThread() != app.thread()
        self.frames.append(frame)

    @Slot(object)
    def on_failed(self, error: Exception) -> None:
        self.errors.append(error)


class _Broken(FrameSource):
    """A source whose ``read`` fails: with a capture error, or with a bug."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.closed = False

    def describe(self) -> str:
        return "broken"

    def open(self) -> None:
        self.closed = False

    def read(self, timeout: float) -> Frame | None:
        raise self.error

    def close(self) -> None:
        self.closed = True


def test_every_frame_reaches_the_ui_thread_in_order(qtbot: QtBot, video_file: Path) -> None:
    feed = FrameFeed(VideoFile(video_file), drop_stale=False)
    recorder = _Recorder(feed)
    with qtbot.waitSignal(feed.finished, timeout=10_000):
        feed.start()
        assert feed.running
    assert [marker(frame.image) for frame in recorder.frames] == list(range(12))
    assert [frame.index for frame in recorder.frames] == list(range(12))
    assert recorder.off_ui_thread == 0 and recorder.errors == []
    assert feed.dropped == 0 and not feed.running


def test_a_busy_ui_gets_the_newest_frame_not_a_backlog(qtbot: QtBot, video_file: Path) -> None:
    feed = FrameFeed(VideoFile(video_file))
    recorder = _Recorder(feed)
    feed.start()
    assert feed.wait(timeout=10)  # the UI thread is busy here while the worker reads all
    with qtbot.waitSignal(feed.finished, timeout=10_000):
        pass
    assert [frame.index for frame in recorder.frames] == [11]
    assert feed.dropped == 11


def test_a_rejected_file_is_reported_and_the_feed_goes_on(qtbot: QtBot, image_folder: Path) -> None:
    (image_folder / "b2.png").write_bytes(b"not a png")
    feed = FrameFeed(ImageFiles(image_folder), drop_stale=False)
    recorder = _Recorder(feed)
    with qtbot.waitSignal(feed.finished, timeout=10_000):
        feed.start()
    assert [marker(frame.image) for frame in recorder.frames] == [0, 1, 2, 3, 4]
    assert [type(error) for error in recorder.errors] == [UnreadableImage]


def test_a_missing_source_fails_at_start(qtbot: QtBot, tmp_path: Path) -> None:
    feed = FrameFeed(VideoFile(tmp_path / "none.avi"))
    with pytest.raises(SourceNotFound):
        feed.start()
    assert not feed.running


@pytest.mark.parametrize(
    ("error", "logged"),
    [(SourceFailed("broken", "unplugged"), False), (RuntimeError("a bug"), True)],
)
def test_errors_end_the_feed_and_reach_the_ui(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture, error: Exception, logged: bool
) -> None:
    source = _Broken(error)
    feed = FrameFeed(source)
    recorder = _Recorder(feed)
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(feed.finished, timeout=10_000):
        feed.start()
    assert recorder.errors == [error]
    assert source.closed
    assert ("reading broken failed" in caplog.text) is logged


def test_phone_uploads_arrive_through_the_feed_and_stop_ends_it(qtbot: QtBot) -> None:
    phone = PhoneSource(host="127.0.0.1", clock=FakeClock())
    feed = FrameFeed(phone, drop_stale=False, poll_interval=0.05)
    feed.start()
    with httpx.Client(timeout=10) as client:
        client.get(phone.url())
        with qtbot.waitSignal(feed.frame, timeout=10_000) as arrived:
            reply = client.post(phone.url().split("/p/")[0] + "/upload", content=jpeg(6))
    assert reply.json()["accepted"] is True
    frame = arrived.args[0]
    assert isinstance(frame, Frame) and marker(frame.image) == 6
    with qtbot.waitSignal(feed.finished, timeout=10_000):
        feed.stop()
    with pytest.raises(RuntimeError, match="not open"):
        phone.url()  # the feed closed it


class _Counted(VideoFile):
    """A video that counts its reads."""

    reads = 0

    def read(self, timeout: float) -> Frame | None:
        self.reads += 1
        return super().read(timeout)


def test_a_paced_feed_reads_the_next_frame_only_when_acknowledged(
    qtbot: QtBot, video_file: Path
) -> None:
    source = _Counted(video_file)
    feed = FrameFeed(source, paced=True, poll_interval=0.05)
    recorder = _Recorder(feed)
    with qtbot.waitSignal(feed.frame, timeout=10_000):
        feed.start()
    assert source.reads == 1, "the worker waits for ack before reading on"
    with qtbot.waitSignal(feed.finished, timeout=10_000):
        while feed.running:
            count = len(recorder.frames)
            feed.ack()
            qtbot.waitUntil(lambda n=count: len(recorder.frames) > n or not feed.running)
    assert [marker(f.image) for f in recorder.frames] == list(range(12))
    assert feed.dropped == 0 and feed.paced
