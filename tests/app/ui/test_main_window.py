"""The main window: first run makes the ledger and key, offers demo items, remembers
its geometry and page."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QThreadPool
from pytestqt.qtbot import QtBot

from app.jobs import Places
from app.settings import Settings
from app.ui.main_window import MainWindow

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
