"""Settings: remembered values, thresholds locked until unlocked, key chores (make,
import, export, rotate with a logged key event)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtTest import QSignalSpy
from pytestqt.qtbot import QtBot

from app.flows.key_admin import RETIRED_SUFFIX, import_key
from app.flows.keys import KeyFileError, new_key
from app.flows.ledger_browse import Kind, rows, view_of
from app.jobs import Places, Workspace, open_workspace
from app.settings import Settings, Thresholds
from app.ui.settings_page import SettingsPage

TIMEOUT_MS = 20_000


@pytest.fixture
def opened(places: Places) -> Iterator[Workspace]:
    workspace = open_workspace(places)
    yield workspace
    QThreadPool.globalInstance().waitForDone(TIMEOUT_MS)
    workspace.close()


def _page(qtbot: QtBot, workspace: Workspace | None = None) -> SettingsPage:
    page = SettingsPage(QThreadPool.globalInstance(), Settings.open("HallmarkTest"))
    qtbot.addWidget(page)
    if workspace is not None:
        page.set_workspace(workspace)
    return page


def test_settings_remember_registry_policy_camera_and_thresholds(tmp_path: Path) -> None:
    settings = Settings.open("HallmarkTest")
    assert (settings.registry, settings.policy_file, settings.camera) == ("", None, "")
    assert settings.thresholds == Thresholds.fitted()
    settings.registry = "http://127.0.0.1:8080"
    settings.policy_file = tmp_path / "policy"
    settings.camera = "/dev/video2"
    settings.thresholds = Thresholds(genuine_at=4.0, counterfeit_below=-1.0)
    settings.sync()
    again = Settings.open("HallmarkTest")
    assert again.registry == "http://127.0.0.1:8080"
    assert again.policy_file == tmp_path / "policy"
    assert again.camera == "/dev/video2"
    assert again.thresholds == Thresholds(genuine_at=4.0, counterfeit_below=-1.0)
    with pytest.raises(ValueError, match="must not exceed"):
        Thresholds(genuine_at=0.0, counterfeit_below=1.0)


def test_thresholds_are_read_only_until_unlocked(qtbot: QtBot) -> None:
    page = _page(qtbot)
    assert page.genuine_at.isReadOnly() and page.counterfeit_below.isReadOnly()
    assert not page.save_thresholds.isEnabled()
    page.unlock_thresholds()
    assert not page.genuine_at.isReadOnly()
    page.genuine_at.setValue(-2.0)  # below counterfeit_below: refused
    status = QSignalSpy(page.status)
    page.store_thresholds()
    assert "must not exceed" in status.at(0)[0]
    assert Settings.open("HallmarkTest").thresholds == Thresholds.fitted()
    page.genuine_at.setValue(5.5)
    page.store_thresholds()
    assert page.genuine_at.isReadOnly()
    assert Settings.open("HallmarkTest").thresholds.genuine_at == 5.5


def test_registry_choice_is_remembered_and_announced(qtbot: QtBot, tmp_path: Path) -> None:
    page = _page(qtbot)
    page.registry.setText(str(tmp_path / "ledger"))
    page.policy.setText(str(tmp_path / "policy"))
    with qtbot.waitSignal(page.registry_changed, timeout=1000):
        page.apply_registry()
    settings = Settings.open("HallmarkTest")
    assert settings.registry == str(tmp_path / "ledger")
    assert settings.policy_file == tmp_path / "policy"


def test_camera_menu_offers_the_default_offscreen(qtbot: QtBot) -> None:
    page = _page(qtbot)
    page.list_cameras()
    assert page.camera.itemText(0) == "Default camera"
    page.camera.setCurrentIndex(0)
    assert Settings.open("HallmarkTest").camera == ""


def test_make_import_export_and_rotate_keys(
    qtbot: QtBot, opened: Workspace, tmp_path: Path
) -> None:
    page = _page(qtbot, opened)
    assert page.keys.topLevelItemCount() == 1  # the first-run manufacturer key
    with qtbot.waitSignal(page.keys_changed, timeout=TIMEOUT_MS):
        page.create_key("line-2")
    assert page.keys.topLevelItemCount() == 2

    elsewhere = new_key("partner", tmp_path / "elsewhere")
    with qtbot.waitSignal(page.keys_changed, timeout=TIMEOUT_MS):
        page.import_key_file(elsewhere.vkey_path)
    items = [page.keys.topLevelItem(i) for i in range(page.keys.topLevelItemCount())]
    names = [item.text(0) for item in items if item is not None]
    assert any(n.startswith("partner+") for n in names)
    with pytest.raises(KeyFileError, match="already in"):
        import_key(elsewhere.vkey_path, opened.places.keys)
    with pytest.raises(KeyFileError, match="not an skey or vkey"):
        import_key(opened.places.ledger / "checkpoint", tmp_path / "other")

    signing = next(item for item in items if item is not None and "signs" in item.text(0))
    page.keys.setCurrentItem(signing)
    chosen = page.selected_key()
    assert chosen is not None and chosen.key == opened.key.key
    page.export_public_key(tmp_path / "out.vkey")
    assert (tmp_path / "out.vkey").read_text().strip() == opened.key.key.format()

    with qtbot.waitSignal(page.keys_changed, timeout=TIMEOUT_MS):
        page.rotate_selected()
    assert not chosen.skey_path.exists()
    assert chosen.skey_path.with_name(chosen.key.name + RETIRED_SUFFIX).is_file()
    assert (opened.places.keys / "manufacturer-2.skey").is_file()
    view = view_of(opened.registry, opened.places.state, name="local")
    (event,) = rows(view, opened.registry.checkpoint().size - 1, opened.registry.checkpoint().size)
    assert event.kind is Kind.KEY
    assert event.detail.startswith("rotate manufacturer-2+")
