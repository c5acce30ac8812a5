"""The Enrol page: a batch enrolled in the pool, with progress and a log of rejects."""

from __future__ import annotations

from pathlib import Path

from conftest import Captures
from PySide6.QtCore import QThreadPool
from pytestqt.qtbot import QtBot

from app.jobs import Workspace
from app.ui.enrol_page import EnrolPage


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
