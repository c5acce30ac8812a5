"""``VideoFile``: a video file as a frame source (the tests' fake camera)."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from app.capture.errors import SourceFailed, SourceNotFound, StreamEnded
from app.capture.source import Frame, FrameSource
from fingerprint.video import open_video


class VideoFile(FrameSource):
    """Every frame of a video file that OpenCV's FFmpeg backend can decode, in order."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._capture: cv2.VideoCapture | None = None
        self._next = 0

    def describe(self) -> str:
        return f"video {self._path.name}"

    def open(self) -> None:
        """Open the file; ``SourceNotFound`` if it is missing, ``SourceFailed`` if undecodable."""
        if not self._path.is_file():
            raise SourceNotFound(f"video file {self._path}")
        capture = open_video(self._path)
        if capture is None:
            raise SourceFailed(self.describe(), f"{self._path} is not a video OpenCV can decode")
        self.close()
        self._capture = capture
        self._next = 0

    def read(self, timeout: float) -> Frame | None:
        """The next decoded frame; ``timeout`` is unused (decoding never waits on a device)."""
        if self._capture is None:
            raise RuntimeError("VideoFile.read() before open()")
        ok, image = self._capture.read()
        if not ok:
            raise StreamEnded(self.describe(), frames=self._next)
        index = self._next
        self._next += 1
        pixels = np.asarray(image, dtype=np.uint8)
        return Frame(image=pixels, timestamp=time.monotonic(), source=self.describe(), index=index)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
