"""``ImageFiles``: folders and lists of images, bad files skipped with a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from capture_samples import marker

from app.capture.errors import SourceNotFound, StreamEnded, UnreadableImage
from app.capture.files import ImageFiles


def test_a_folder_yields_its_images_sorted_by_name(image_folder: Path) -> None:
    with ImageFiles(image_folder) as source:
        frames = list(source)
    assert [marker(frame.image) for frame in frames] == [0, 1, 2, 3, 4]
    assert [frame.index for frame in frames] == [0, 1, 2, 3, 4]
    assert {frame.source for frame in frames} == {f"images in {image_folder}"}
    assert all(frame.image.shape == (64, 96, 3) for frame in frames)
    timestamps = [frame.timestamp for frame in frames]
    assert timestamps == sorted(timestamps)


def test_a_list_keeps_its_order(image_folder: Path) -> None:
    paths = [image_folder / "c.jpeg", image_folder / "a.png"]
    with ImageFiles(paths) as source:
        assert [marker(frame.image) for frame in source] == [2, 0]
        assert source.describe() == "2 image files"


def test_an_unreadable_file_is_reported_and_skipped(image_folder: Path) -> None:
    (image_folder / "b2.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with ImageFiles(image_folder) as source:
        first, second = source.read(0), source.read(0)
        with pytest.raises(UnreadableImage, match=r"cannot read b2\.png: .*b2\.png") as caught:
            source.read(0)
        rest = [source.read(0) for _ in range(3)]
        with pytest.raises(StreamEnded, match="ended after 6 frames"):
            source.read(0)
    assert caught.value.name == "b2.png"
    assert [marker(f.image) for f in (first, second, *rest) if f is not None] == [0, 1, 2, 3, 4]
    assert [f.index for f in rest if f is not None] == [3, 4, 5]


def test_an_empty_folder_ends_at_once(tmp_path: Path) -> None:
    with ImageFiles(tmp_path) as source, pytest.raises(StreamEnded, match="after 0 frames"):
        source.read(0)


def test_a_missing_folder_or_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound, match=r"folder .*nowhere not found"):
        ImageFiles(tmp_path / "nowhere").open()
    with pytest.raises(SourceNotFound, match=r"image file .*gone\.png not found"):
        ImageFiles([tmp_path / "gone.png"]).open()
