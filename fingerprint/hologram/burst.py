"""A tilt burst: 10–60 colour frames of one item, from a video, a folder or arrays.

:func:`load_burst` is the one place that reads files; :func:`check_burst` validates
frames however they arrived. Both return a tuple of read-only BGR uint8 arrays of one
size, or raise :class:`BurstError` saying what was wrong.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fingerprint.errors import ImageError
from fingerprint.hologram.errors import BurstError
from fingerprint.hologram.params import BurstParams
from fingerprint.image import load
from fingerprint.video import open_video

Frame = NDArray[np.uint8]
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"})
MAX_VIDEO_FRAMES = 1800
"""A video is read up to this many frames (a minute at 30 fps), then sampled evenly."""


def load_burst(
    source: str | os.PathLike[str] | Sequence[Frame], params: BurstParams = BurstParams()
) -> tuple[Frame, ...]:
    """Frames of a video file, of the images in a folder (sorted by name), or an array list.

    A video with more than ``params.max_frames`` frames is sampled evenly down to that
    many; a folder or list must already hold 10–60 frames.

    Raises
    ------
    BurstError
        Missing or undecodable source, too few or too many frames, mixed sizes, grey or
        non-8-bit frames.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            return check_burst([_read_image(p) for p in files], params)
        if path.is_file():
            return check_burst(_read_video(path, params.max_frames), params)
        raise BurstError(f"{path} is neither a video file nor a folder of images")
    return check_burst(list(source), params)


def check_burst(frames: Sequence[Frame], params: BurstParams = BurstParams()) -> tuple[Frame, ...]:
    """Validate ``frames``: count, colour, dtype and one common size; return them read-only."""
    if len(frames) < params.min_frames:
        raise BurstError(
            f"a tilt burst needs at least {params.min_frames} frames, got {len(frames)}"
        )
    if len(frames) > params.max_frames:
        raise BurstError(
            f"a tilt burst takes at most {params.max_frames} frames, got {len(frames)}"
        )
    checked = []
    for index, frame in enumerate(frames):
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
            kind = getattr(frame, "dtype", type(frame).__name__)
            raise BurstError(f"frame {index} must be a uint8 array, got {kind}")
        if frame.ndim != 3 or frame.shape[2] not in (3, 4):
            raise BurstError(
                f"frame {index} must be colour (H, W, 3) BGR or (H, W, 4) BGRA, got shape "
                f"{frame.shape}: a hologram is told apart by its colours"
            )
        if frame.shape[:2] != frames[0].shape[:2]:
            raise BurstError(
                f"frames must share one size: frame 0 is {frames[0].shape[1]}×"
                f"{frames[0].shape[0]}, frame {index} is {frame.shape[1]}×{frame.shape[0]}"
            )
        bgr = frame[:, :, :3] if frame.shape[2] == 4 else frame
        bgr = np.ascontiguousarray(bgr)
        bgr.flags.writeable = False
        checked.append(bgr)
    height, width = checked[0].shape[:2]
    if min(height, width) < params.min_side:
        raise BurstError(
            f"frames are {width}×{height}; each side must be at least {params.min_side} px"
        )
    return tuple(checked)


def _read_image(path: Path) -> Frame:
    try:
        image = load(path)
    except ImageError as exc:
        raise BurstError(f"burst frame {path.name}: {exc}") from exc
    if image.dtype != np.uint8:
        raise BurstError(f"burst frame {path.name} is {image.dtype}; frames must be 8-bit")
    return np.asarray(image, np.uint8)


def _read_video(path: Path, keep: int) -> list[Frame]:
    capture = open_video(path)
    if capture is None:
        raise BurstError(f"{path} is not a video OpenCV can decode")
    try:
        frames: list[Frame] = []
        while len(frames) < MAX_VIDEO_FRAMES:
            ok, image = capture.read()
            if not ok:
                break
            frames.append(np.asarray(image, np.uint8))
    finally:
        capture.release()
    if len(frames) > keep:
        picks = np.linspace(0, len(frames) - 1, keep).round().astype(int)
        frames = [frames[i] for i in picks]
    return frames
