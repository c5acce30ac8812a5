"""The Verify page end to end: a file opened, verified in the pool, the verdict shown."""

from __future__ import annotations

from pathlib import Path

from conftest import Captures
from PySide6.QtCore import QObject, Qt, QThreadPool, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.capture.files import ImageFiles
from app.flows.verify import Outcome, Verification
from app.jobs import Workspace
from app.ui.verify_page import VerifyPage
from app.ui.widgets.verdict import AMBER, BLUE, GREY, VERMILLION, Look, VerdictBadge

TIMEOUT_MS = 10_000


def _page(qtbot: QtBot, workspace: Workspace) -> VerifyPage:
    page = VerifyPage(QThreadPool.globalInstance())
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
    with qtbot.waitSignal(page.live_frame_shown, timeout=TIMEOUT_MS):
        page.open_source(ImageFiles([captures.genuine_4mp]))
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
