"""An uploaded video clip (a hologram tilt burst) to a few evenly spaced BGR frames.

The phone server spools the upload to a private temporary file; :func:`sample_video`
checks that the container is whole, then decodes it with OpenCV's FFmpeg backend in two
passes (count the frames, then keep the chosen ones), so no more than ``keep`` decoded
frames are held at once.
"""

from __future__ import annotations

import enum
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from numpy.typing import NDArray

from app.capture.decode import sniff
from app.capture.errors import UnreadableVideo
from fingerprint.video import open_video

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_MAX_TOP_LEVEL = 1024  # boxes or elements; real files have a handful
_HEADER_PEEK = 16  # bytes: the longest box header (size, type, 64-bit size)


class VideoKind(enum.StrEnum):
    """Video containers recognised by their magic bytes; the value is the media type."""

    ISO_BMFF = "video/mp4"  # MP4 and QuickTime MOV: an ``ftyp`` box at offset 4
    MATROSKA = "video/webm"  # WebM and Matroska: the EBML magic 1A 45 DF A3

    @property
    def suffix(self) -> str:
        """A file name suffix FFmpeg associates with the container."""
        return ".mp4" if self is VideoKind.ISO_BMFF else ".webm"


def sniff_video(data: bytes) -> VideoKind | None:
    """The kind of video ``data`` starts like, or ``None``; looks at the first 12 bytes.

    An ``ftyp`` box with a HEIF brand starts a photo (``decode.sniff``), not a video.
    """
    if sniff(data) is not None:
        return None
    if data[4:8] == b"ftyp":
        return VideoKind.ISO_BMFF
    if data.startswith(_EBML_MAGIC):
        return VideoKind.MATROSKA
    return None


def check_whole(stream: BinaryIO, kind: VideoKind) -> None:
    """Refuse a file whose top-level boxes (ISO-BMFF) or elements (EBML) run past its end.

    A box or element of unknown size (size 0 in ISO-BMFF, all ones in EBML, as a live
    recorder writes) runs to the end of the file and ends the walk.

    Raises
    ------
    UnreadableVideo
        A malformed header, too many top-level items, or a declared end past the file's.
    """
    length = stream.seek(0, io.SEEK_END)
    measure = _box_size if kind is VideoKind.ISO_BMFF else _element_size
    offset = parts = 0
    while offset < length:
        if parts == _MAX_TOP_LEVEL:
            raise UnreadableVideo(
                f"the video file is damaged: more than {_MAX_TOP_LEVEL} top-level parts"
            )
        stream.seek(offset)
        size = measure(stream.read(_HEADER_PEEK), offset)
        if size is None:
            return
        offset += size
        parts += 1
    if offset > length:
        raise UnreadableVideo(
            f"the video is cut short: it declares {offset:,} bytes, {length:,} arrived"
        )


def sample_video(
    path: Path, kind: VideoKind, *, keep: int, max_frames: int, max_pixels: int
) -> list[NDArray[np.uint8]]:
    """Up to ``keep`` frames evenly spaced over the video at ``path``, in order.

    Frames are BGR, shape (H, W, 3), uint8, one size, with the video's rotation applied
    (OpenCV's default). A video of ``keep`` frames or fewer gives all of them.

    Raises
    ------
    UnreadableVideo
        The file is cut short or damaged, does not decode, has more than ``max_frames``
        frames, frames of more than ``max_pixels`` pixels, or frames of mixed sizes.
    """
    if keep < 1:
        raise ValueError(f"keep must be >= 1, got {keep}")
    with path.open("rb") as stream:
        check_whole(stream, kind)
    total = _count_frames(path, max_frames=max_frames, max_pixels=max_pixels)
    picks = set(np.linspace(0, total - 1, min(keep, total)).round().astype(int).tolist())
    frames: list[NDArray[np.uint8]] = []
    with _capture(path) as capture:
        for index in range(max(picks) + 1):
            if not capture.grab():
                raise UnreadableVideo(f"the video's frame {index + 1} of {total} no longer decodes")
            if index in picks:
                ok, image = capture.retrieve()
                if not ok:
                    raise UnreadableVideo(
                        f"the video's frame {index + 1} of {total} does not decode"
                    )
                frames.append(_checked(image, frames, max_pixels))
    return frames


def _count_frames(path: Path, *, max_frames: int, max_pixels: int) -> int:
    """Frames that decode, counted without converting them; refuses huge videos early."""
    with _capture(path) as capture:
        declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if declared > max_frames:
            raise UnreadableVideo(_too_long(f"{declared:,}", max_frames))
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width * height > max_pixels:
            raise UnreadableVideo(_too_big(width, height, max_pixels))
        total = 0
        while capture.grab():
            total += 1
            if total > max_frames:
                raise UnreadableVideo(_too_long(f"over {max_frames:,}", max_frames))
    if total == 0:
        raise UnreadableVideo("the video has no frame that decodes")
    return total


def _checked(
    image: NDArray[np.uint8], earlier: list[NDArray[np.uint8]], max_pixels: int
) -> NDArray[np.uint8]:
    height, width = image.shape[:2]
    if width * height > max_pixels:
        raise UnreadableVideo(_too_big(width, height, max_pixels))
    if earlier and earlier[0].shape != image.shape:
        first_height, first_width = earlier[0].shape[:2]
        raise UnreadableVideo(
            f"the video's frames change size, from {first_width}×{first_height} to {width}×{height}"
        )
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise UnreadableVideo(
            f"the video's frames decode as {image.shape} {image.dtype}, not 8-bit colour"
        )
    return np.ascontiguousarray(image)


def _too_long(frames: str, max_frames: int) -> str:
    return (
        f"the video has {frames} frames; the limit is {max_frames:,}. "
        "Record 3–5 seconds of tilting."
    )


def _too_big(width: int, height: int, max_pixels: int) -> str:
    return (
        f"the video's frames are {width}×{height}; the limit is {max_pixels / 1e6:.1f} megapixels. "
        "Record at 4K or less."
    )


@contextmanager
def _capture(path: Path) -> Iterator[cv2.VideoCapture]:
    capture = open_video(path)
    if capture is None:
        raise UnreadableVideo("the video does not decode (damaged, cut short, or an unknown codec)")
    try:
        yield capture
    finally:
        capture.release()


def _box_size(header: bytes, offset: int) -> int | None:
    """An ISO-BMFF box's size from its header (ISO/IEC 14496-12 §4.2); None: to the end."""
    if len(header) < 8:
        raise _cut_short(offset)
    size = int.from_bytes(header[:4], "big")
    minimum = 8
    if size == 0:
        return None
    if size == 1:
        if len(header) < 16:
            raise _cut_short(offset)
        size = int.from_bytes(header[8:16], "big")
        minimum = 16
    if size < minimum:
        raise UnreadableVideo(
            f"the video file is damaged: a box of {size} bytes at byte {offset:,}"
        )
    return size


def _element_size(header: bytes, offset: int) -> int | None:
    """An EBML element's size with its ID and size fields (RFC 8794 §4); None: to the end."""
    id_length = _vint_length(header, 0, longest=4, offset=offset)
    size_length = _vint_length(header, id_length, longest=8, offset=offset)
    field = header[id_length : id_length + size_length]
    size = int.from_bytes(field, "big") & ((1 << (7 * size_length)) - 1)  # drop the marker
    if size == (1 << (7 * size_length)) - 1:
        return None
    return id_length + size_length + size


def _vint_length(header: bytes, at: int, *, longest: int, offset: int) -> int:
    """Length of the EBML variable-size integer at ``header[at]``: its leading zeros + 1."""
    if len(header) <= at:
        raise _cut_short(offset)
    length = 9 - header[at].bit_length()
    if length > longest:
        raise UnreadableVideo(f"the video file is damaged: a bad element header at byte {offset:,}")
    if len(header) < at + length:
        raise _cut_short(offset)
    return length


def _cut_short(offset: int) -> UnreadableVideo:
    return UnreadableVideo(f"the video is cut short: a header at byte {offset:,} is incomplete")
