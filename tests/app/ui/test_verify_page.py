"""The Verify page end to end: files, a fake camera and a phone; verdict, evidence, history."""

from __future__ import annotations

from pathlib import Path

import cv2
import httpx
import numpy as np
from conftest import STEADY_FRAMES, Captures
from PySide6.QtCore import QObject, Qt, QThreadPool, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.capture.files import ImageFiles
from app.capture.phone import PhoneSource
from app.capture.video import VideoFile
from app.flows.commitment import enrol_commitment
from app.flows.verify import Outcome, Verification
from app.jobs import Workspace
from app.ui.verify_page import VerifyPage
from app.ui.widgets.capture_panel import Mode
from app.ui.widgets.verdict import AMBER, BLUE, GREY, VERMILLION, Look, VerdictBadge
from fingerprint.synth import Material, Tier, capture, make_item

TIMEOUT_MS = 10_000
FAST = 1000.0
"""Analyses per second allowed in tests: as fast as the machine goes."""


def _page(qtbot: QtBot, workspace: Workspace) -> VerifyPage:
    page = VerifyPage(QThreadPool.globalInstance(), steady_frames=STEADY_FRAMES, rate=FAST)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.set_workspace(workspace)
    page.show()
    return page


def _verify_file(qtbot: QtBot, page: VerifyPage, path: Path) -> Verification:
    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS) as blocker:
        page.open_image(path)
    result = blocker.args[0]
    assert isinstance(result, Verification)
    return result


def _badge_colour(badge: VerdictBadge) -> QColor:
    """The colour painted near the badge's top-left corner, inside the rounding."""
    return badge.grab().toImage().pixelColor(14, 14)


def test_genuine_capture_shows_a_blue_genuine_verdict_with_evidence(
    qtbot: QtBot, workspace: Workspace, captures: Captures
) -> None:
    page = _page(qtbot, workspace)
    result = _verify_file(qtbot, page, captures.genuine)
    assert result.outcome is Outcome.GENUINE
    badge = page.result.badge
    assert badge.look is Look.GENUINE
    assert badge.title() == "GENUINE"
    assert _badge_colour(badge) == BLUE
    assert "✓" in badge.accessibleName() or badge.accessibleName().startswith("Verdict: GENUINE")
    assert result.match is not None and result.match.score >= 2.0
    shown = [label.text() for label in page.result.findChildren(QLabel)]
    assert any("inliers of" in text for text in shown)
    assert any(workspace.key.key.reference in text for text in shown)
    assert f"Serial {result.serial}" in shown


def test_print_copy_shows_a_vermillion_counterfeit_verdict(
    qtbot: QtBot, workspace: Workspace, captures: Captures
) -> None:
    page = _page(qtbot, workspace)
    result = _verify_file(qtbot, page, captures.copy)
    assert result.outcome is Outcome.COUNTERFEIT
    assert page.result.badge.title() == "COUNTERFEIT"
    assert _badge_colour(page.result.badge) == VERMILLION


def test_each_look_has_its_own_colour_glyph_and_word(qtbot: QtBot) -> None:
    badge = VerdictBadge()
    qtbot.addWidget(badge)
    badge.resize(400, 120)
    seen = set()
    for look, colour in (
        (Look.GENUINE, BLUE),
        (Look.COUNTERFEIT, VERMILLION),
        (Look.RETAKE, AMBER),
        (Look.NOT_REGISTERED, GREY),
    ):
        badge.show_look(look, "detail")
        assert _badge_colour(badge) == colour
        seen.add((badge.title(), badge.accessibleName()))
    assert len(seen) == 4


class _Ticks(QObject):
    """Counts timer ticks, and remembers the count when verification ended."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.at_verdict = -1

    @Slot()
    def tick(self) -> None:
        self.count += 1

    @Slot(object)
    def verdict(self, _result: object) -> None:
        self.at_verdict = self.count


def test_the_event_loop_keeps_turning_while_a_4mp_capture_is_verified(
    qtbot: QtBot, workspace: Workspace, captures: Captures
) -> None:
    page = _page(qtbot, workspace)
    with qtbot.waitSignal(page.capture.analysed, timeout=TIMEOUT_MS):
        page.capture.open_source(ImageFiles([captures.genuine_4mp]), Mode.LIVE)
    ticks = _Ticks()
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(ticks.tick)
    page.verified.connect(ticks.verdict)
    timer.start()
    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS):
        qtbot.mouseClick(page.verify_button, Qt.MouseButton.LeftButton)
        at_click = ticks.count
    timer.stop()
    assert at_click == 0, "the click returned after the timer ran: it blocked"
    assert ticks.at_verdict >= 3, f"the UI thread ticked {ticks.at_verdict} times meanwhile"


def _shown(page: VerifyPage) -> list[str]:
    return [label.text() for label in page.result.findChildren(QLabel)]


def test_fake_camera_verifies_a_genuine_item_then_its_print_copy(
    qtbot: QtBot, workspace: Workspace, captures: Captures
) -> None:
    page = _page(qtbot, workspace)
    page.place.setText("Shop 12, Lyon")
    outcomes: list[Verification] = []
    page.verified.connect(outcomes.append)
    with qtbot.waitSignal(page.capture.ended, timeout=TIMEOUT_MS):
        assert page.capture.open_source(VideoFile(captures.counter_video), Mode.PLAYED)
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=TIMEOUT_MS)
    assert [v.outcome for v in outcomes] == [Outcome.GENUINE, Outcome.COUNTERFEIT]
    assert all(v.event_leaf is not None for v in outcomes), "each scan is logged"
    assert page.result.badge.title() == "COUNTERFEIT"
    shown = _shown(page)
    assert "This scan:" in shown
    assert any(text.startswith("counterfeit at Shop 12, Lyon, by ") for text in shown), shown
    assert any(text.startswith("genuine at Shop 12, Lyon, by ") for text in shown), shown
    assert not page.result.warnings.isVisible(), "one place: nothing to warn about"


def test_the_live_view_draws_the_window_and_says_what_to_do(
    qtbot: QtBot, workspace: Workspace, captures: Captures
) -> None:
    page = _page(qtbot, workspace)
    with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS):
        page.open_image(captures.genuine)
    analysis = page.live.analysis()
    assert analysis is not None and analysis.ok
    assert analysis.serial == "SN100041"
    assert page.live.instructions() == "good: hold it there"
    picture = page.result.evidence_view.grab().toImage()
    assert picture.width() > 100, "the evidence view is shown"
    evidence = page.result.evidence_view.accessibleDescription()
    assert "keypoint pairs agree" in evidence and not evidence.startswith("0 of")


def test_a_scan_far_from_the_previous_one_raises_a_warning(
    qtbot: QtBot, workspace: Workspace, captures: Captures
) -> None:
    page = _page(qtbot, workspace)
    page.place.setText("48.8566,2.3522")
    _verify_file(qtbot, page, captures.genuine)
    assert not page.result.warnings.isVisible()
    page.place.setText("35.6762,139.6503")
    _verify_file(qtbot, page, captures.genuine)
    assert page.result.warnings.isVisible()
    assert "too far to travel" in page.result.warnings.text()


def test_a_phone_photo_arrives_through_the_pairing_server_and_is_verified(
    qtbot: QtBot, workspace: Workspace, captures: Captures
) -> None:
    page = _page(qtbot, workspace)
    phone = page.capture.open_phone(PhoneSource(host="127.0.0.1"))
    assert phone is not None
    url = phone.url()
    photo = captures.genuine.read_bytes()
    with httpx.Client(timeout=10) as client:
        assert client.get(url).status_code == 303  # paired: the session cookie is set
        with qtbot.waitSignal(page.verified, timeout=TIMEOUT_MS) as verified:
            reply = client.post(url.split("/p/")[0] + "/upload", content=photo)
        assert reply.json()["accepted"] is True
    assert verified.args[0].outcome is Outcome.GENUINE
    frame = page.live.last_frame()
    assert frame is not None and frame.source == "phone"
    with qtbot.waitSignal(page.capture.ended, timeout=TIMEOUT_MS):
        page.capture.stop_source()


def test_a_photo_without_a_readable_code_asks_for_a_retake_without_a_lookup(
    qtbot: QtBot, workspace: Workspace, captures: Captures, tmp_path: Path
) -> None:
    page = _page(qtbot, workspace)
    blank = tmp_path / "table.png"
    assert cv2.imwrite(str(blank), np.full((480, 640, 3), 120, np.uint8))
    with qtbot.waitSignal(page.capture.analysed, timeout=TIMEOUT_MS):
        page.open_image(blank)
    assert page.result.badge.title() == "RETAKE"
    assert page.result.guidance().startswith("• show the item's code")
    assert page.live.instructions().startswith("show the item's code")


def test_a_photo_without_a_code_is_checked_as_the_typed_element_string(
    qtbot: QtBot, workspace: Workspace, captures: Captures, tmp_path: Path
) -> None:
    page = _page(qtbot, workspace)
    enrolled = _verify_file(qtbot, page, captures.genuine).proven
    assert enrolled is not None
    blank = tmp_path / "table.png"
    assert cv2.imwrite(str(blank), np.full((480, 640, 3), 120, np.uint8))
    page.item.serial.setText(enrolled.record.item.format())
    result = _verify_file(qtbot, page, blank)
    assert result.proven is not None and result.proven.record.item == enrolled.record.item
    assert result.outcome is Outcome.RETAKE  # a blank table is no evidence of the item


def test_a_typed_gtin_with_a_wrong_check_digit_is_refused_before_any_lookup(
    qtbot: QtBot, workspace: Workspace, captures: Captures, tmp_path: Path
) -> None:
    page = _page(qtbot, workspace)
    blank = tmp_path / "table.png"
    assert cv2.imwrite(str(blank), np.full((480, 640, 3), 120, np.uint8))
    page.item.serial.setText("0001")
    page.item.gtin.setText("09506000134353")

    def failed(message: str) -> bool:
        return message.startswith("Verification failed")

    with qtbot.waitSignal(page.status, timeout=TIMEOUT_MS, check_params_cb=failed) as status:
        page.open_image(blank)
    assert "check digit 3 is wrong, want 2" in status.args[0]
    assert page.result.badge.look is Look.ERROR
    page.item.gtin.clear()  # a serial alone cannot find an item without its code
    with qtbot.waitSignal(page.status, timeout=TIMEOUT_MS, check_params_cb=failed) as status:
        page.open_image(blank)
    assert "type the GTIN and the serial" in status.args[0]


def test_an_item_registered_by_commitment_shows_its_opening(
    qtbot: QtBot, workspace: Workspace, tmp_path: Path
) -> None:
    rng = np.random.default_rng(8)  # the item of tests/fingerprint/commitment/conftest.py
    item = make_item(rng, Material.PHOTO, 0)
    enrol_commitment(
        [capture(item, rng, Tier.EASY), capture(item, rng, Tier.EASY)],
        signer=workspace.signer,
        registry=workspace.registry,
    )
    again = tmp_path / "again.png"
    assert cv2.imwrite(str(again), capture(item, rng, Tier.EASY))
    page = _page(qtbot, workspace)
    result = _verify_file(qtbot, page, again)
    assert result.outcome is Outcome.GENUINE and result.judgement is not None
    shown = [label.text() for label in page.result.findChildren(QLabel)]
    assert "opened: the surface is the enrolled one" in shown
    opening = result.judgement.opening
    assert opening is not None and str(opening.corrected) in shown
    assert not page.result.scale.isVisible()
