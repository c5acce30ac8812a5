"""``Frame`` validation and the behaviour every ``FrameSource`` inherits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.capture.files import ImageFiles
from app.capture.source import Frame


def test_frame_takes_ownership_of_its_pixels() -> None:
    image = np.zeros((4, 5, 3), dtype=np.uint8)
    frame = Frame(image=image, timestamp=1.5, source="test", index=0)
    with pytest.raises(ValueError, match="read-only"):
        frame.image[0, 0, 0] = 1


@pytest.mark.parametrize(
    ("shape", "dtype", "message"),
    [
        ((4, 5), np.uint8, r"\(H, W, 3\) uint8 BGR, got \(4, 5\) uint8"),
        ((4, 5, 4), np.uint8, r"got \(4, 5, 4\) uint8"),
        ((4, 5, 3), np.uint16, r"got \(4, 5, 3\) uint16"),
        ((0, 5, 3), np.uint8, r"empty: \(0, 5, 3\)"),
    ],
)
def test_frame_refuses_anything_but_bgr_bytes(
    shape: tuple[int, ...], dtype: type[np.generic], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Frame(image=np.zeros(shape, dtype=dtype), timestamp=0.0, source="test", index=0)


def test_frame_refuses_a_negative_index() -> None:
    with pytest.raises(ValueError, match="index must be >= 0, got -1"):
        Frame(image=np.zeros((2, 2, 3), np.uint8), timestamp=0.0, source="test", index=-1)


def test_a_source_is_a_context_manager_and_an_iterable(image_folder: Path) -> None:
    source = ImageFiles(image_folder)
    with source as opened:
        assert opened is source
        indices = [frame.index for frame in source]
    assert indices == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="before open"):
        source.read(timeout=0)
