"""The Hologram tab: a burst matched against the hologram enrolled on the ledger for the
item read from its code (or typed), and its place as the window's sixth mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot

from app.flows.enrol import enrol
from app.flows.hologram import load_template
from app.jobs import Places, Workspace
from app.settings import Settings
from app.ui.hologram_page import HologramPage
from app.ui.main_window import MainWindow
from app.ui.widgets.verdict import Look
from fingerprint.hologram import HologramTemplate, extract_hologram, match_hologram
from fingerprint.synth import Material, Tier, capture
from fingerprint.synth.hologram import make_hologram_item
from fingerprint.synth.hologram_capture import burst, burst_jpegs
from fingerprint.synth.items import build_item
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.item import ItemId
from registry_client.note import SignerKey
from registry_client.records import generate_key

TIMEOUT_MS = 60_000


@pytest.fixture
def enrolled(tmp_path: Path) -> Iterator[tuple[EmbeddedRegistry, ItemId, Path]]:
    """A ledger with one item enrolled with its hologram, and a new burst of it."""
    rng = np.random.default_rng(55)
    holo = make_hologram_item(rng, 3)
    label = build_item(rng, material=Material.PAPER, gs1=holo.gs1, item_id="label")
    maker = generate_key("acme.example")
    policy = create_ledger(
        tmp_path / "ledger", SignerKey.generate("test.log"), manufacturers=(maker.verifier,)
    )
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state", policy)
    template = extract_hologram(burst(holo, rng, frames=12, tier=Tier.EASY, size=(480, 360)))
    done = enrol(capture(label, rng, Tier.EASY), signer=maker, registry=registry, hologram=template)
    folder = tmp_path / "live"
    folder.mkdir()
    for k, data in enumerate(burst_jpegs(holo, rng, frames=12, tier=Tier.EASY, size=(480, 360))):
        (folder / f"frame-{k:02d}.jpg").write_bytes(data)
    yield registry, done.proven.record.item, folder
    registry.close()


def test_a_burst_is_matched_against_the_ledger(
    qtbot: QtBot, enrolled: tuple[EmbeddedRegistry, ItemId, Path]
) -> None:
    registry, item, folder = enrolled
    page = HologramPage(QThreadPool.globalInstance())
    qtbot.addWidget(page)
    page.set_workspace(cast(Workspace, SimpleNamespace(registry=registry)))
    with qtbot.waitSignal(page.analysed, timeout=TIMEOUT_MS) as blocker:
        page.analyse(folder)
    result = blocker.args[0]
    enrolled_template = HologramTemplate.from_bytes(registry.lookup(item).hologram or b"")
    expected = match_hologram(enrolled_template, load_template(folder))
    assert result.item == item and result.verdict == expected
    assert page.verdict.look == Look(expected.decision.value)
    assert page.verdict.accessibleName().endswith(f"hologram enrolled for {item}")
    page.item.serial.setText("SN-NOT-THERE")
    page.analyse(folder)
    qtbot.waitUntil(lambda: page.verdict.look == Look.NOT_REGISTERED, timeout=TIMEOUT_MS)
    assert "is not registered" in page.verdict.accessibleName()


def test_hologram_is_the_sixth_mode(qtbot: QtBot, places: Places) -> None:
    window = MainWindow(places, QThreadPool.globalInstance(), Settings.open("HallmarkTest"))
    qtbot.addWidget(window)
    assert window.tabs.tabText(5) == "&6 Hologram"
    shortcut = next(a for a in window.findChildren(QAction) if a.shortcut().toString() == "Ctrl+6")
    shortcut.trigger()
    assert window.tabs.currentWidget() is window.hologram_page
    window.close()
