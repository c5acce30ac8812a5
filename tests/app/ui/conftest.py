"""UI fixtures: isolated user folders and settings, synthetic captures, videos of items
passing a fake camera, an open ledger, and a check that no test leaves the global thread
pool busy."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings, QThreadPool

from app.flows.enrol import enrol
from app.jobs import Places, Workspace, open_workspace
from fingerprint.synth import Item, Material, Tier, capture, make_item, print_copy

POOL_WAIT_MS = 10_000
VIDEO_SIZE = (640, 480)
"""Small frames keep the fake-camera tests fast; the window still spans ~150 px."""
FRAMES_PER_ITEM = 3
"""Frames each item stays in view of the fake camera; the pages need 2 steady ones."""
STEADY_FRAMES = 2


def write_video(path: Path, frames: Iterable[np.ndarray]) -> Path:
    """An MJPG ``.avi`` of ``frames`` (BGR, `VIDEO_SIZE`): a fake camera's footage."""
    mjpg = cv2.VideoWriter.fourcc(*"MJPG")
    writer = cv2.VideoWriter(str(path), cv2.CAP_OPENCV_MJPEG, mjpg, 10.0, VIDEO_SIZE)
    # OpenCV's own MJPEG writer takes a JPEG quality (FFmpeg's ignores it): a good camera's
    assert writer.isOpened() and writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def empty_table(rng: np.random.Generator) -> np.ndarray:
    """A frame with no item in view: the camera between two items."""
    height, width = VIDEO_SIZE[1], VIDEO_SIZE[0]
    return rng.integers(90, 110, (height, width, 3), dtype=np.uint8)


def presentation(item: Item, rng: np.random.Generator) -> list[np.ndarray]:
    """An item held in view for `FRAMES_PER_ITEM` frames, then taken away."""
    shots = [capture(item, rng, Tier.EASY, size=VIDEO_SIZE) for _ in range(FRAMES_PER_ITEM)]
    return [*shots, empty_table(rng)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Captures:
    """Image files of synthetic items: ``enrol`` is registered by `workspace`."""

    enrol: Path
    genuine: Path
    genuine_4mp: Path
    copy: Path
    fresh: tuple[Path, ...]
    """Captures of items nobody enrolled."""
    counter_video: Path
    """The enrolled item, then a print copy of it, each held in front of the camera."""


@pytest.fixture(scope="session")
def captures(tmp_path_factory: pytest.TempPathFactory) -> Captures:
    folder = tmp_path_factory.mktemp("captures")
    rng = np.random.default_rng(11)
    item = make_item(rng, Material.PAPER, 41)
    images = {
        "enrol": capture(item, rng, Tier.EASY),
        "genuine": capture(item, rng, Tier.EASY),
        "genuine_4mp": capture(item, rng, Tier.EASY, size=(2304, 1728)),
        "copy": capture(print_copy(item, rng), rng, Tier.EASY),
        "fresh-1": capture(make_item(rng, Material.PLASTIC, 42), rng, Tier.EASY),
        "fresh-2": capture(make_item(rng, Material.LEATHER, 43), rng, Tier.EASY),
    }
    paths = {name: folder / f"{name}.png" for name in images}
    for name, image in images.items():
        assert cv2.imwrite(str(paths[name]), image)
    counter = [*presentation(item, rng), *presentation(print_copy(item, rng), rng)]
    return Captures(
        counter_video=write_video(folder / "counter.avi", counter),
        enrol=paths["enrol"],
        genuine=paths["genuine"],
        genuine_4mp=paths["genuine_4mp"],
        copy=paths["copy"],
        fresh=(paths["fresh-1"], paths["fresh-2"]),
    )


@pytest.fixture(scope="session")
def line_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten new items passing the camera, then one shaken out of focus, then the first
    item again."""
    rng = np.random.default_rng(12)
    items = [make_item(rng, Material.PAPER, 200 + n) for n in range(10)]
    frames = [frame for item in items for frame in presentation(item, rng)]
    shaken = presentation(make_item(rng, Material.PLASTIC, 299), rng)
    frames += [cv2.GaussianBlur(frame, (0, 0), 3.0) for frame in shaken]
    frames += presentation(items[0], rng)
    return write_video(tmp_path_factory.mktemp("line") / "line.avi", frames)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """User data, state, config and settings under ``tmp_path``, never the real home."""
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings")
    )
    return tmp_path


@pytest.fixture(autouse=True)
def pool_left_idle() -> Iterator[None]:
    """Fail a test that leaves work running in the global thread pool (napari's habit)."""
    yield
    pool = QThreadPool.globalInstance()
    pool.waitForDone(POOL_WAIT_MS)
    assert pool.activeThreadCount() == 0, "a task was still running after the test"


@pytest.fixture
def places(isolated_home: Path) -> Places:
    return Places.default()


@pytest.fixture
def workspace(places: Places, captures: Captures) -> Iterator[Workspace]:
    """The first-run local ledger and key, with the ``enrol`` capture registered."""
    opened = open_workspace(places)
    enrol(captures.enrol, signer=opened.signer, registry=opened.registry)
    yield opened
    QThreadPool.globalInstance().waitForDone(POOL_WAIT_MS)
    opened.close()
