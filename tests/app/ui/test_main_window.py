"""The main window: first run makes the ledger and key, offers demo items, remembers
its geometry and page."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QSize, Qt, QThreadPool
from pytestqt.qtbot import QtBot

from app.flows.enrol import enrol
from app.flows.verify import Outcome, Verification
from app.jobs import Places, Workspace
from app.settings import Settings
from app.tasks import Task
from app.ui import main_window
from app.ui.main_window import MainWindow

if TYPE_CHECKING:  # not imported at run time: another folder's conftest may own the name
    from conftest import Captures

TIMEOUT_MS = 20_000


def _window(qtbot: QtBot, places: Places) -> MainWindow:
    window = MainWindow(places, QThreadPool.globalInstance(), Settings.open("HallmarkTest"))
    qtbot.addWidget(window)
    return window


def test_first_run_makes_ledger_and_key_and_demo_items_enrol(qtbot: QtBot, places: Places) -> None:
    window = _window(qtbot, places)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=TIMEOUT_MS)
    assert window.banner.isVisible()
    assert (places.keys / "manufacturer.skey").is_file()
    with qtbot.waitSignal(window.enrol_page.batch_finished, timeout=TIMEOUT_MS) as done:
        qtbot.mouseClick(window.demo_button, Qt.MouseButton.LeftButton)
    assert done.args == [4, 0]
    assert len(list(places.demo.glob("*-genuine.png"))) == 4
    assert window.tabs.currentWidget() is window.enrol_page
    window.close()


def test_geometry_and_page_are_remembered(qtbot: QtBot, places: Places) -> None:
    window = _window(qtbot, places)
    window.show()
    window.resize(790, 540)  # within the offscreen screen's 800x600
    size = window.size()
    assert size != _default_size(qtbot, places)
    window.tabs.setCurrentIndex(2)
    window.close()
    again = _window(qtbot, places)
    assert again.tabs.currentIndex() == 2
    assert again.size() == size


def _default_size(qtbot: QtBot, places: Places) -> QSize:
    """The size a window opens at with nothing remembered."""
    return _window(qtbot, places).size()


def test_thresholds_saved_in_settings_decide_the_verify_page_verdicts(
    qtbot: QtBot, places: Places, captures: Captures
) -> None:
    window = _window(qtbot, places)
    window.start()
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=TIMEOUT_MS)
    workspace = window.workspace
    assert workspace is not None
    enrol(captures.enrol, signer=workspace.signer, registry=workspace.registry)
    settings = window.settings_page
    settings.unlock_thresholds()
    settings.genuine_at.setValue(49.0)  # out of any genuine capture's reach
    settings.store_thresholds()
    with qtbot.waitSignal(window.verify_page.verified, timeout=TIMEOUT_MS) as verified:
        window.verify_page.open_image(captures.genuine)
    result: Verification = verified.args[0]
    assert result.outcome is Outcome.RETAKE
    assert result.params.genuine_at == 49.0
    window.close()


def test_the_camera_chosen_in_settings_is_the_one_opened(qtbot: QtBot, places: Places) -> None:
    settings = Settings.open("HallmarkTest")
    settings.camera = "usb-0000:00:14.0-9"
    window = _window(qtbot, places)
    panel = window.verify_page.capture
    with qtbot.waitSignal(panel.status, timeout=TIMEOUT_MS) as status:
        panel.open_camera()
    assert status.args[0].startswith("Capture: camera usb-0000:00:14.0-9 not found")
    window.close()


def test_the_verify_place_is_remembered(qtbot: QtBot, places: Places) -> None:
    window = _window(qtbot, places)
    window.verify_page.place.setText("Shop 12, Lyon")
    window.close()
    assert _window(qtbot, places).verify_page.place.text() == "Shop 12, Lyon"


def test_closing_while_a_task_still_runs_leaves_the_ledger_to_it(
    qtbot: QtBot, places: Places, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task still writing when the wait for the pool runs out keeps its ledger open."""
    really_close = Workspace.close
    closed: list[Workspace] = []

    def close(workspace: Workspace) -> None:
        closed.append(workspace)
        really_close(workspace)

    monkeypatch.setattr(Workspace, "close", close)
    monkeypatch.setattr(main_window, "SHUTDOWN_WAIT_MS", 50)
    window = _window(qtbot, places)
    window.start()
    qtbot.waitUntil(lambda: window.workspace is not None, timeout=TIMEOUT_MS)
    workspace = window.workspace
    assert workspace is not None
    pool = QThreadPool.globalInstance()
    pool.waitForDone(TIMEOUT_MS)  # the warm-up too
    release = threading.Event()
    pool.start(Task(lambda: release.wait(TIMEOUT_MS / 1000)))
    window.close()
    assert closed == []
    release.set()
    assert pool.waitForDone(TIMEOUT_MS)
    workspace.close()  # what the process's exit would do
    again = _window(qtbot, places)
    again.start()
    qtbot.waitUntil(lambda: again.workspace is not None, timeout=TIMEOUT_MS)
    pool.waitForDone(TIMEOUT_MS)
    again.close()
    assert len(closed) == 2  # with nothing running, the window closes its ledger itself
