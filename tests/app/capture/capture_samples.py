"""Synthetic frames that say which one they are, for the capture tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

FRAME_SIZE = (96, 64)  # (width, height): small, but above fingerprint's 64 px minimum
_BASE, _STEP = 20, 12


def synthetic_frame(index: int) -> NDArray[np.uint8]:
    """A BGR frame whose mean grey level encodes ``index`` (0..17), robust to JPEG."""
    width, height = FRAME_SIZE
    image = np.full((height, width, 3), _BASE + _STEP * index, dtype=np.uint8)
    image[height // 2 :, : width // 2, 2] = 255 - image[0, 0, 2]  # some structure, and colour
    image[height // 2 :, : width // 2, :2] = image[0, 0, 0]
    return image


def marker(image: NDArray[np.uint8]) -> int:
    """The ``index`` a ``synthetic_frame`` was made with, read back from (lossy) pixels."""
    half = FRAME_SIZE[1] // 2
    level = float(image[:half, :, :].mean())
    return round((level - _BASE) / _STEP)


def jpeg(index: int) -> bytes:
    ok, data = cv2.imencode(".jpg", synthetic_frame(index), [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return data.tobytes()


def multipart(
    bodies: Sequence[bytes],
    *,
    boundary: bytes = b"frame",
    content_length: bool = True,
    newline: bytes = b"\r\n",
) -> bytes:
    """``bodies`` framed as a ``multipart/x-mixed-replace`` stream (delimiter ``--boundary``)."""
    out = bytearray()
    for body in bodies:
        out += b"--" + boundary + newline + b"Content-Type: image/jpeg" + newline
        if content_length:
            out += b"Content-Length: %d" % len(body) + newline
        out += newline + body + newline
    return bytes(out)


class FakeClock:
    """A clock the test moves by hand: expiry and rate limits without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


VIDEO_SIZE = (160, 120)  # (width, height)


def _ramp_level(index: int) -> int:
    """The grey level of frame ``index`` of a ``video``: each frame says which one it is."""
    return 10 + 3 * index


def video(folder: Path, count: int, *, fourcc: str = "mp4v", suffix: str = ".mp4") -> bytes:
    """The bytes of a ``count``-frame video (at most 81) written by OpenCV in ``folder``."""
    path = folder / f"ramp-{count}{suffix}"
    width, height = VIDEO_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), 30.0, VIDEO_SIZE)
    assert writer.isOpened()
    for index in range(count):
        writer.write(np.full((height, width, 3), _ramp_level(index), dtype=np.uint8))
    writer.release()
    return path.read_bytes()


def every_frame(path: Path) -> list[NDArray[np.uint8]]:
    """All frames of the video at ``path``, read plainly with OpenCV: the oracle."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(np.asarray(image, np.uint8))
    capture.release()
    levels = [float(frame.mean()) for frame in frames]
    assert levels == sorted(levels) and len(set(levels)) == len(levels)  # the ramp survived
    return frames
