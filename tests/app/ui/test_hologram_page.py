"""The hologram page: a burst (a folder, or recorded from a source frame by frame) analysed
in the pool, coverage ring and verdict shown."""

from __future__ import annotations

from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from PySide6.QtCore import Qt, QThreadPool
from pytestqt.qtbot import QtBot

from app.capture.files import ImageFiles
from app.capture.phone import PhoneSource
from app.ui.hologram_page import HologramPage
from app.ui.widgets.capture_panel import Mode
from app.ui.widgets.verdict import Look
from fingerprint.hologram import extract_hologram
from fingerprint.synth import Tier
from fingerprint.synth.hologram import make_hologram_item
from fingerprint.synth.hologram_capture import burst


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[np.ndarray], Path]:
    rng = np.random.default_rng(21)
    item = make_hologram_item(rng, 5)
    enrol = burst(item, rng, frames=12, tier=Tier.EASY, size=(480, 360))
    folder = tmp_path_factory.mktemp("printed")
    for k, frame in enumerate(burst(item, rng, frames=12, size=(480, 360))):
        cv2.imwrite(str(folder / f"frame-{k:02d}.png"), frame)
    return enrol, folder


def test_a_burst_fills_the_ring_and_shows_the_verdict(
    qtbot: QtBot, shots: tuple[list[np.ndarray], Path]
) -> None:
    enrol, folder = shots
    page = HologramPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.set_reference(extract_hologram(enrol))
    with qtbot.waitSignal(page.analysed, timeout=60_000) as blocker:
        page.analyse(folder)
    result = blocker.args[0]
    assert page.ring.progress() == result.coverage.progress > 0
    assert page.verdict.look == Look(result.verdict.decision.value)
    assert result.verdict.decision.value in ("genuine", "retake")
    assert not page.ring.grab().isNull()


def test_a_bad_burst_shows_the_reason(qtbot: QtBot, tmp_path: Path) -> None:
    page = HologramPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.analyse(tmp_path)  # an empty folder
    qtbot.waitUntil(lambda: "at least 10 frames" in page.verdict.accessibleName(), timeout=10_000)
    assert page.verdict.look == Look.ERROR


def test_a_burst_recorded_from_a_source_is_analysed_once_complete(
    qtbot: QtBot, shots: tuple[list[np.ndarray], Path]
) -> None:
    enrol, folder = shots
    page = HologramPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.set_reference(extract_hologram(enrol))
    assert page.recorder is not None and not page.record.isEnabled()  # armed on opening
    with qtbot.waitSignal(page.analysed, timeout=120_000) as blocker:
        assert page.capture.open_source(ImageFiles(folder), Mode.STILL)
    result = blocker.args[0]
    assert result.verdict.decision.value in ("genuine", "retake")
    assert page.verdict.look == Look(result.verdict.decision.value)
    assert page.recorder is None and page.record.isEnabled()  # stopped until asked again
    qtbot.mouseClick(page.record, Qt.MouseButton.LeftButton)
    assert page.recorder is not None and not page.recorder.frames
    assert page.ring.progress() == 0


def test_frames_without_the_code_start_no_burst(qtbot: QtBot, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for k in range(3):
        cv2.imwrite(str(tmp_path / f"noise-{k}.png"), rng.integers(0, 255, (360, 480, 3), np.uint8))
    page = HologramPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.capture.ended, timeout=60_000):
        assert page.capture.open_source(ImageFiles(tmp_path), Mode.STILL)
    assert page.recorder is not None and page.recorder.skipped == 3
    assert page.missing.text() == "Show the item's code to start the burst."
    assert page.verdict.look == Look.IDLE


def test_a_tilt_video_from_the_phone_is_recorded_and_analysed(
    qtbot: QtBot, shots: tuple[list[np.ndarray], Path], tmp_path: Path
) -> None:
    enrol, folder = shots
    clip = tmp_path / "tilt.mp4"
    frames = [cv2.imread(str(p)) for p in sorted(folder.iterdir())]
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 10, (480, 360))
    for frame in frames:
        writer.write(frame)
    writer.release()
    page = HologramPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.set_reference(extract_hologram(enrol))
    assert page.capture.phone_videos  # the panel's own phone page offers a video
    phone = page.capture.open_phone(PhoneSource(host="127.0.0.1", videos=True))
    assert phone is not None
    url = phone.url()
    with httpx.Client(timeout=30) as client:
        assert client.get(url).status_code == 303  # paired
        with qtbot.waitSignal(page.analysed, timeout=120_000) as blocker:
            reply = client.post(url.split("/p/")[0] + "/upload", content=clip.read_bytes())
            assert reply.json()["frames"] == len(frames)
    assert blocker.args[0].verdict.decision.value in ("genuine", "retake")
    with qtbot.waitSignal(page.capture.ended, timeout=30_000):
        page.capture.stop_source()


def test_analyse_now_takes_the_frames_kept_so_far(
    qtbot: QtBot, shots: tuple[list[np.ndarray], Path]
) -> None:
    enrol, _ = shots
    page = HologramPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.set_reference(extract_hologram(enrol))
    assert page.recorder is not None
    page.recorder.frames.extend(enrol[:9])
    page.finish_recording()  # fewer than a burst: nothing happens
    assert page.recorder is not None and page.verdict.look == Look.IDLE
    page.recorder.frames.append(enrol[9])
    with qtbot.waitSignal(page.analysed, timeout=60_000) as blocker:
        page.finish_recording()
    assert blocker.args[0].verdict is not None and page.recorder is None


def test_another_items_code_starts_a_new_burst(
    qtbot: QtBot, shots: tuple[list[np.ndarray], Path], tmp_path: Path
) -> None:
    """A few frames of one item, then the next item's: only the second is analysed."""
    enrol, folder = shots
    rng = np.random.default_rng(22)
    other = make_hologram_item(rng, 6)
    for k, frame in enumerate(burst(other, rng, frames=4, tier=Tier.EASY, size=(480, 360))):
        cv2.imwrite(str(tmp_path / f"a-{k:02d}.png"), frame)
    for path in sorted(folder.iterdir()):
        (tmp_path / f"b-{path.name}").write_bytes(path.read_bytes())
    page = HologramPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    reference = extract_hologram(enrol)
    page.set_reference(reference)
    with (
        qtbot.waitSignal(
            page.status,
            timeout=60_000,
            check_params_cb=lambda m: m.startswith("Hologram: another item"),
        ),
        qtbot.waitSignal(page.analysed, timeout=120_000) as blocker,
    ):
        assert page.capture.open_source(ImageFiles(tmp_path), Mode.STILL)
    result = blocker.args[0]
    assert result.template.code_text == reference.code_text  # the burst began at this item
    assert result.template.frames <= len(list(folder.iterdir()))  # none of the other's
    assert result.verdict.decision.value in ("genuine", "retake")
