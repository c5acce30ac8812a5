"""Capture fixtures: a video and a folder made of synthetic frames, and a check that no
test leaves a thread running."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from capture_samples import FRAME_SIZE, synthetic_frame


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    """A 12-frame MJPG .avi of synthetic frames: the tests' fake camera."""
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, FRAME_SIZE)
    assert writer.isOpened()
    for index in range(12):
        writer.write(synthetic_frame(index))
    writer.release()
    return path


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Five images of mixed formats and case, plus files that are not images."""
    folder = tmp_path / "captures"
    folder.mkdir()
    for index, name in enumerate(["a.png", "b.JPG", "c.jpeg", "d.webp", "e.bmp"]):
        ok = cv2.imwrite(str(folder / name), synthetic_frame(index))
        assert ok
    (folder / "notes.txt").write_text("not an image")
    (folder / "sub.png").mkdir()  # a folder with an image's name is skipped
    return folder


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves a Python thread running (napari's habit)."""
    before = set(threading.enumerate())
    yield
    leftover = [
        thread
        for thread in threading.enumerate()
        if thread not in before and not isinstance(thread, threading._DummyThread)
    ]
    for thread in leftover:
        thread.join(timeout=5)
    alive = [thread.name for thread in leftover if thread.is_alive()]
    assert not alive, f"threads still running after the test: {alive}"
