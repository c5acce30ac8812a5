"""The Enrol page: a folder batch and the line camera, with progress and a log of rejects."""

from __future__ import annotations

from pathlib import Path

from conftest import STEADY_FRAMES, Captures
from PySide6.QtCore import QThreadPool
from pytestqt.qtbot import QtBot

from app.capture.video import VideoFile
from app.jobs import Workspace
from app.ui.enrol_page import EnrolPage
from app.ui.widgets.capture_panel import Mode


def test_batch_enrols_new_items_and_logs_each_reject_with_its_reason(
    qtbot: QtBot, workspace: Workspace, captures: Captures, tmp_path: Path
) -> None:
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not an image")
    page = EnrolPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.set_workspace(workspace)
    batch = [*captures.fresh, captures.enrol, not_an_image]
    with qtbot.waitSignal(page.batch_finished, timeout=20_000) as blocker:
        page.enrol_paths(batch)
    assert blocker.args == [2, 2]
    rejects = [page.log.item(i).text() for i in range(page.log.count())]
    assert len(rejects) == 2
    assert rejects[0].startswith("enrol.png: ") and "already registered" in rejects[0]
    assert rejects[1].startswith("notes.png: ")
    assert workspace.registry.checkpoint().size == 3  # the fixture's item and the two new


def test_the_line_enrols_ten_items_from_the_fake_camera_and_logs_the_rest(
    qtbot: QtBot, workspace: Workspace, line_video: Path
) -> None:
    page = EnrolPage(QThreadPool.globalInstance(), steady_frames=STEADY_FRAMES, rate=1000.0)
    qtbot.addWidget(page)
    page.set_workspace(workspace)
    page.start_line()
    assert "Line running" in page.line_stats.text()
    shown: list[str] = []
    page.capture.analysed.connect(lambda _: shown.append(page.line_stats.text()))
    with qtbot.waitSignal(page.line_finished, timeout=60_000) as finished:
        page.capture.open_source(VideoFile(line_video), Mode.PLAYED)
    assert finished.args == [10, 2]
    assert any("waiting · 4 enrolling · " in text for text in shown), shown
    assert any(text.endswith(" items/min") and "· 0 items/min" not in text for text in shown)
    rejects = [page.log.item(i).text() for i in range(page.log.count())]
    assert rejects[0].endswith(": not captured: hold still and let it focus")
    assert rejects[1] == "SN100200: already taken in this run"
    assert workspace.registry.checkpoint().size == 11  # the fixture's item and ten new
    assert page.counts.text() == "10 enrolled, 2 refused"
    assert page.line_stats.text() == "Line stopped"
    assert not page.line_button.isChecked()
