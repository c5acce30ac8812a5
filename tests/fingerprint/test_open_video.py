"""open_video: a decodable file opens; anything else is None, without OpenCV's warning
(FFmpeg's own error line about the container may still be printed)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fingerprint.video import open_video


def test_a_video_opens_and_reads(tmp_path: Path) -> None:
    path = tmp_path / "tilt.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    for shade in (40, 200):
        writer.write(np.full((48, 64, 3), shade, np.uint8))
    writer.release()
    capture = open_video(path)
    assert capture is not None
    ok, frame = capture.read()
    capture.release()
    assert ok and frame.shape == (48, 64, 3)


def test_what_does_not_decode_is_none_without_opencvs_warning(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    empty, text = tmp_path / "empty.mp4", tmp_path / "notes.mp4"
    empty.write_bytes(b"")
    text.write_text("not a video")
    assert [open_video(path) for path in (empty, text, tmp_path / "missing.mp4")] == [None] * 3
    assert "WARN" not in capfd.readouterr().err
