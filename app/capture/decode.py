"""Image bytes to BGR pixels, and what kind of image some bytes claim to be."""

from __future__ import annotations

import enum
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from app.capture.errors import UnreadableImage
from fingerprint.errors import ImageError
from fingerprint.image import load

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})


class ImageKind(enum.StrEnum):
    """Image formats recognised by their magic bytes; the value is the media type."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"
    HEIC = "image/heic"


def sniff(data: bytes) -> ImageKind | None:
    """The kind of image ``data`` starts like, or ``None``; looks at the first 12 bytes."""
    if data.startswith(b"\xff\xd8\xff"):
        return ImageKind.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageKind.PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageKind.WEBP
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return ImageKind.HEIC
    return None


def decode_image(source: Path | bytes, *, name: str) -> NDArray[np.uint8]:
    """Decode a file or its bytes to BGR pixels, shape (H, W, 3), uint8.

    Decoding is ``fingerprint.image.load``'s: it refuses decompression bombs before
    decoding, notices truncated data and applies the EXIF orientation phones write.
    Grey and BGRA images become BGR, 16-bit ones keep their top 8 bits.

    Raises
    ------
    UnreadableImage
        ``source`` is missing, not an image, damaged or too large; ``name`` labels it.
    """
    try:
        pixels = load(source)
    except ImageError as exc:
        # ``load`` names bytes input "<bytes>"; say something a person can read instead.
        raise UnreadableImage(name, str(exc).replace("<bytes>", "the image")) from exc
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
    elif pixels.shape[2] == 4:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(pixels, dtype=np.uint8)
