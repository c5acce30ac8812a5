"""The window's five modes by keyboard, its menus, the About box's version, the engine
warm-up in the status line, and the Ledger page browsing the local ledger."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot

import app
from app.jobs import Places
from app.settings import Settings
from app.ui.about import about_text
from app.ui.main_window import MainWindow
from registry_client.embedded import create_ledger
from registry_client.note import SignerKey

TIMEOUT_MS = 60_000


def _window(qtbot: QtBot, places: Places) -> MainWindow:
    window = MainWindow(places, QThreadPool.globalInstance(), Settings.open("HallmarkTest"))
    qtbot.addWidget(window)
    window.show()
    return window


def _shortcuts(window: MainWindow) -> dict[str, QAction]:
    return {
        a.shortcut().toString(): a
        for a in window.findChildren(QAction)
        if not a.shortcut().isEmpty()
    }


def test_ctrl_1_to_5_switch_modes_and_menus_name_their_shortcuts(
    qtbot: QtBot, places: Places
) -> None:
    window = _window(qtbot, places)
    shortcuts = _shortcuts(window)
    for number in range(5, 0, -1):
        shortcuts[f"Ctrl+{number}"].trigger()
        assert window.tabs.currentIndex() == number - 1
    assert window.tabs.tabText(3) == "&4 Ledger" and window.tabs.tabText(4) == "&5 Settings"
    assert not shortcuts["Ctrl+E"].isEnabled()  # no verification to certify yet
    assert {"Ctrl+Q", "F1"} <= set(shortcuts)
    window.close()


def test_about_box_names_the_version() -> None:
    assert f"Hallmark {app.__version__}" in about_text()
    assert "PySide6" in about_text()


def test_start_warms_the_engine_and_the_ledger_page_browses_the_local_ledger(
    qtbot: QtBot, places: Places
) -> None:
    window = _window(qtbot, places)
    window.start()
    assert window.warm_up_label.text() == "Compiling the fingerprint engine…"
    qtbot.waitUntil(
        lambda: window.warm_up_label.text().startswith("Fingerprint engine ready"),
        timeout=TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: window.ledger_page.view is not None, timeout=TIMEOUT_MS)
    view = window.ledger_page.view
    assert view is not None and view.name == f"local ledger {places.ledger}"
    window.close()


def test_registry_chosen_in_settings_is_browsed_and_a_bad_one_is_reported(
    qtbot: QtBot, places: Places, tmp_path: Path
) -> None:
    other = tmp_path / "other-ledger"
    create_ledger(other, SignerKey.generate("other.log"))
    window = _window(qtbot, places)
    window.start()
    qtbot.waitUntil(lambda: window.ledger_page.view is not None, timeout=TIMEOUT_MS)
    window.settings_page.registry.setText(str(other))
    window.settings_page.apply_registry()
    qtbot.waitUntil(
        lambda: getattr(window.ledger_page.view, "name", "") == str(other), timeout=TIMEOUT_MS
    )
    window.settings_page.registry.setText(str(tmp_path / "nothing-here"))
    window.settings_page.apply_registry()
    qtbot.waitUntil(
        lambda: "Cannot open the registry" in window.statusBar().currentMessage(),
        timeout=TIMEOUT_MS,
    )
    assert "want a ledger folder or a registry URL" in window.statusBar().currentMessage()
    window.close()
