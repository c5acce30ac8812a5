"""Synthetic frames that say which one they are, for the capture tests."""

from __future__ import annotations

from collections.abc import Sequence

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
