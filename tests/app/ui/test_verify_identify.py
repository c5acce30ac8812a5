"""The Verify page's Identify: an item found by its surface alone fills the item fields."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from conftest import STEADY_FRAMES
from PySide6.QtCore import Qt, QThreadPool
from pytestqt.qtbot import QtBot

from app.flows.enrol import enrol
from app.flows.identify import Identification, Outcome
from app.jobs import Workspace
from app.ui.verify_page import INDEX_FILE, VerifyPage
from fingerprint.synth import Material, Tier, capture, make_item

TIMEOUT_MS = 10_000


def test_identify_finds_the_item_among_the_ledgers_and_fills_its_fields(
    qtbot: QtBot, workspace: Workspace, tmp_path: Path
) -> None:
    rng = np.random.default_rng(21)
    items = [make_item(rng, Material.PLASTIC, 60), make_item(rng, Material.LEATHER, 61)]
    enrolled = [
        enrol(capture(item, rng, Tier.EASY), signer=workspace.signer, registry=workspace.registry)
        for item in items
    ]
    probe = tmp_path / "second.png"
    assert cv2.imwrite(str(probe), capture(items[1], rng, Tier.EASY))
    page = VerifyPage(QThreadPool.globalInstance(), steady_frames=STEADY_FRAMES, rate=1000.0)
    qtbot.addWidget(page)
    page.set_workspace(workspace)
    page.show()
    assert not page.identify_button.isEnabled(), "nothing on screen to identify"
    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS):
        page.open_image(probe)  # auto-verified by its code; Identify ignores the code

    with qtbot.waitSignal(page.identified, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(page.identify_button, Qt.MouseButton.LeftButton)
        assert not page.identify_button.isEnabled(), "one identification at a time"
    result = blocker.args[0]
    assert isinstance(result, Identification)
    assert result.outcome is Outcome.IDENTIFIED
    want = enrolled[1].proven.record.item
    assert result.best is not None and result.best.proven.record.item == want
    assert page.identification.text().startswith(f"Identified {want.format()}: genuine")
    assert (page.item.serial.text(), page.item.gtin.text()) == (want.serial, want.gtin)
    assert (workspace.places.state / INDEX_FILE).is_file(), "the index is cached"
    assert page.identify_button.isEnabled()
