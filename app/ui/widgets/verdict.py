"""The verdict: one big badge (colour, glyph and word) and the score on its scale.

Colours are from Okabe & Ito's colour-blind-safe palette, and never the only cue: each
verdict also has its own glyph and word.

References
----------
M. Okabe and K. Ito, "Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people", 2002.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.flows.verify import Outcome
from fingerprint.params import MatchParams

BLUE = QColor("#0072B2")
VERMILLION = QColor("#D55E00")
AMBER = QColor("#E69F00")
GREY = QColor("#5A5A5A")
PALE = QColor("#E4E4E4")


class Look(enum.StrEnum):
    """What the badge can show."""

    IDLE = "idle"
    BUSY = "busy"
    GENUINE = "genuine"
    COUNTERFEIT = "counterfeit"
    RETAKE = "retake"
    NOT_REGISTERED = "not registered"
    ERROR = "error"

    @classmethod
    def of(cls, outcome: Outcome) -> Look:
        """The look of a verification outcome."""
        return cls(outcome.value)


@dataclass(frozen=True, slots=True)
class _Style:
    glyph: str
    title: str
    background: QColor
    text: QColor


_STYLES = {
    Look.IDLE: _Style("·", "No verdict yet", PALE, QColor("#202020")),
    Look.BUSY: _Style("…", "Checking", PALE, QColor("#202020")),
    Look.GENUINE: _Style("✓", "GENUINE", BLUE, QColor("white")),
    Look.COUNTERFEIT: _Style("✗", "COUNTERFEIT", VERMILLION, QColor("white")),
    Look.RETAKE: _Style("↻", "RETAKE", AMBER, QColor("black")),
    Look.NOT_REGISTERED: _Style("?", "NOT REGISTERED", GREY, QColor("white")),
    Look.ERROR: _Style("!", "COULD NOT CHECK", GREY, QColor("white")),
}


class VerdictBadge(QFrame):
    """A large coloured panel: glyph, verdict word and one line of detail."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdict")
        self.setMinimumHeight(110)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._glyph = QLabel()
        self._title = QLabel()
        self._detail = QLabel()
        self._detail.setWordWrap(True)
        for label, scale in ((self._glyph, 3.6), (self._title, 2.2), (self._detail, 1.0)):
            font = QFont(label.font())
            font.setPointSizeF(font.pointSizeF() * scale)
            font.setBold(label is not self._detail)
            label.setFont(font)
        self._glyph.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._glyph.setMinimumWidth(90)
        words = QVBoxLayout()
        words.addWidget(self._title)
        words.addWidget(self._detail)
        layout = QHBoxLayout(self)
        layout.addWidget(self._glyph)
        layout.addLayout(words, 1)
        self._look = Look.IDLE
        self.show_look(Look.IDLE, "")

    @property
    def look(self) -> Look:
        """What the badge shows now."""
        return self._look

    def title(self) -> str:
        """The verdict word shown."""
        return self._title.text()

    def show_look(self, look: Look, detail: str) -> None:
        """Show ``look`` with ``detail`` underneath."""
        style = _STYLES[look]
        self._look = look
        self._glyph.setText(style.glyph)
        self._title.setText(style.title)
        self._detail.setText(detail)
        self.setAccessibleName(f"Verdict: {style.title}. {detail}")
        self.setStyleSheet(
            f"QFrame#verdict {{ background: {style.background.name()}; border-radius: 10px; }}"
            f"QFrame#verdict QLabel {{ color: {style.text.name()}; background: transparent; }}"
        )


class ScoreScale(QWidget):
    """The score as a marker on a scale with the counterfeit and genuine thresholds."""

    SPAN = 10.0
    """The scale runs from -SPAN to +SPAN; scores beyond are drawn at the ends."""

    def __init__(self, params: MatchParams = MatchParams(), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._params = params
        self._score: float | None = None
        self.setMinimumHeight(46)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(360, 46)

    def set_score(self, score: float | None) -> None:
        """Mark ``score``; ``None`` clears the marker."""
        self._score = score
        self.setToolTip("" if score is None else self.describe())
        self.update()

    def describe(self) -> str:
        """The score and the thresholds in words."""
        p = self._params
        score = "—" if self._score is None else f"{self._score:+.2f}"
        return (
            f"score {score}: genuine at ≥ {p.genuine_at:+.1f}, "
            f"counterfeit below {p.counterfeit_below:+.1f}"
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = QRectF(8, 8, self.width() - 16, 14)
        low, high = (
            self._x(bar, self._params.counterfeit_below),
            self._x(bar, self._params.genuine_at),
        )
        for left, right, colour in (
            (bar.left(), low, VERMILLION),
            (low, high, AMBER),
            (high, bar.right(), BLUE),
        ):
            painter.fillRect(QRectF(left, bar.top(), right - left, bar.height()), colour)
        painter.setPen(self.palette().windowText().color())
        for value in (self._params.counterfeit_below, self._params.genuine_at):
            x = self._x(bar, value)
            painter.drawText(
                QRectF(x - 30, bar.bottom() + 2, 60, 18),
                Qt.AlignmentFlag.AlignCenter,
                f"{value:+.0f}",
            )
        if self._score is not None:
            x = self._x(bar, self._score)
            painter.setPen(QPen(QColor("black"), 3))
            painter.drawLine(QPointF(x, bar.top() - 6), QPointF(x, bar.bottom() + 6))
            painter.setPen(QPen(QColor("white"), 1))
            painter.drawLine(QPointF(x, bar.top() - 5), QPointF(x, bar.bottom() + 5))
        painter.end()

    def _x(self, bar: QRectF, value: float) -> float:
        share = (max(-self.SPAN, min(self.SPAN, value)) + self.SPAN) / (2 * self.SPAN)
        return bar.left() + share * bar.width()
