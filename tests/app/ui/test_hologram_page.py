"""The hologram page: a burst folder analysed in the pool, coverage ring and verdict shown."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QThreadPool
from pytestqt.qtbot import QtBot

from app.ui.hologram_page import HologramPage
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
    assert page.verdict.text().startswith(result.verdict.decision.value.upper())
    assert result.verdict.decision.value in ("genuine", "retake")
    assert not page.ring.grab().isNull()


def test_a_bad_burst_shows_the_reason(qtbot: QtBot, tmp_path: Path) -> None:
    page = HologramPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.analyse(tmp_path)  # an empty folder
    qtbot.waitUntil(lambda: "at least 10 frames" in page.verdict.text(), timeout=10_000)
