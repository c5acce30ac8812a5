"""``VideoFile``: a generated MJPG clip read back frame by frame (the fake camera)."""

from __future__ import annotations

from pathlib import Path

import pytest
from capture_samples import marker

from app.capture.errors import SourceFailed, SourceNotFound, StreamEnded
from app.capture.video import VideoFile


def test_every_frame_comes_back_in_order(video_file: Path) -> None:
    with VideoFile(video_file) as source:
        frames = list(source)
        with pytest.raises(StreamEnded, match="video clip.avi ended after 12 frames"):
            source.read(0)
    assert [marker(frame.image) for frame in frames] == list(range(12))
    assert [frame.index for frame in frames] == list(range(12))
    assert frames[0].image.shape == (64, 96, 3)
    assert frames[0].source == "video clip.avi"


def test_reopening_starts_again(video_file: Path) -> None:
    source = VideoFile(video_file)
    source.open()
    source.read(0)
    source.open()
    frame = source.read(0)
    source.close()
    source.close()
    assert frame is not None and frame.index == 0 and marker(frame.image) == 0


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound, match=r"video file .*none\.avi not found"):
        VideoFile(tmp_path / "none.avi").open()


def test_a_file_that_is_no_video_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "fake.avi"
    path.write_bytes(b"RIFF but not really a video")
    with pytest.raises(SourceFailed, match=r"not a video OpenCV can decode"):
        VideoFile(path).open()
