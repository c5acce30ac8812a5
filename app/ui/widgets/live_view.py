"""The live view: the newest frame, the located window and code, and what to do next."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.capture.source import Frame
from app.flows.live import LiveAnalysis
from app.ui.widgets.verdict import AMBER, BLUE

GUIDE = 0.7
"""Before anything is located: the aiming box's share of the picture's width and height."""
YELLOW = QColor("#F0E442")
"""Okabe–Ito yellow, for the aiming box on any background."""


def to_qimage(frame: Frame) -> QImage:
    """The frame's BGR pixels as a ``QImage`` that owns a copy of them."""
    image = frame.image
    height, width, _ = image.shape
    view = QImage(image.data, width, height, 3 * width, QImage.Format.Format_BGR888)
    return view.copy()


class LiveView(QWidget):
    """Shows frames as they arrive with the located window over them.

    Without an analysis it shows an aiming box. With one, the fingerprint window is
    outlined (solid blue when the capture is good, dashed amber with instructions when
    not), the code is outlined in white, and the decoded serial and GTIN are written on
    top; a bar shows how close auto-capture is.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._frame: Frame | None = None
        self._analysis: LiveAnalysis | None = None
        self._progress = 0.0
        self._hint = "Open an image, folder, video, stream or phone to see it here"
        self.good = "good: hold it there"
        """What the view says over a frame that needs nothing done."""
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Live view")

    def sizeHint(self) -> QSize:
        return QSize(560, 420)

    def last_frame(self) -> Frame | None:
        """The frame shown, if any."""
        return self._frame

    def analysis(self) -> LiveAnalysis | None:
        """The analysis drawn, if any."""
        return self._analysis

    def show_frame(self, frame: Frame) -> None:
        """Show ``frame``."""
        self._frame = frame
        self._image = to_qimage(frame)
        self._hint = f"{frame.source} · frame {frame.index + 1}"
        self.update()

    def show_analysis(self, analysis: LiveAnalysis | None, progress: float = 0.0) -> None:
        """Draw ``analysis`` over the frames; ``progress`` (0 to 1) towards auto-capture."""
        self._analysis = analysis
        self._progress = progress
        self.setAccessibleDescription(self.instructions())
        self.update()

    def instructions(self) -> str:
        """What the view tells the person holding the item."""
        if self._analysis is None:
            return ""
        said = self._analysis.instructions()
        return " · ".join(said) if said else self.good

    def set_hint(self, text: str) -> None:
        """Replace the line under the picture."""
        self._hint = text
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#1E1E1E"))
        line = painter.fontMetrics().height() + 8
        area = QRectF(self.rect().adjusted(0, 0, 0, -line))
        if not self._image.isNull():
            size = self._image.size().scaled(
                area.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio
            )
            area = QRectF(
                area.left() + (area.width() - size.width()) / 2,
                area.top() + (area.height() - size.height()) / 2,
                size.width(),
                size.height(),
            )
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(area, self._image)
        if self._analysis is None:
            _draw_aim(painter, area)
        else:
            _draw_analysis(painter, area, self._analysis, self.instructions(), self._progress)
        painter.setPen(QColor("white"))
        painter.drawText(
            QRectF(6, self.height() - line, self.width() - 12, line),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            self._hint,
        )
        painter.end()


def _draw_aim(painter: QPainter, area: QRectF) -> None:
    guide = QRectF(
        area.left() + area.width() * (1 - GUIDE) / 2,
        area.top() + area.height() * (1 - GUIDE) / 2,
        area.width() * GUIDE,
        area.height() * GUIDE,
    )
    painter.setPen(QPen(YELLOW, 2, Qt.PenStyle.DashLine))
    painter.drawRect(guide)


def _draw_analysis(
    painter: QPainter, area: QRectF, analysis: LiveAnalysis, said: str, progress: float
) -> None:
    width, height = analysis.frame_size
    sx, sy = area.width() / width, area.height() / height

    def polygon(corners: NDArray[np.float64]) -> QPolygonF:
        return QPolygonF([QPointF(area.left() + x * sx, area.top() + y * sy) for x, y in corners])

    painter.save()
    if analysis.code is not None:
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.drawPolygon(polygon(analysis.code))
        window_pen = QPen(BLUE if analysis.ok else AMBER, 3)
        if not analysis.ok:
            window_pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(window_pen)
        painter.drawPolygon(polygon(analysis.window))
    else:
        _draw_aim(painter, area)
    font = QFont(painter.font())
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    painter.setFont(font)
    band = painter.fontMetrics().height() + 10
    width = painter.device().width()  # bands span the view: a narrow picture keeps its words
    top = QRectF(0, area.top(), width, band)
    bottom = QRectF(0, area.bottom() - band, width, band)
    painter.fillRect(top, QColor(0, 0, 0, 150))
    painter.fillRect(bottom, BLUE if analysis.ok else AMBER)
    painter.setPen(QColor("white"))
    code = (
        f"serial {analysis.serial}" + (f" · GTIN {analysis.gtin}" if analysis.gtin else "")
        if analysis.serial is not None
        else "no code read"
    )
    flags = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignHCenter
    metrics, room = painter.fontMetrics(), round(width) - 12
    painter.drawText(top, flags, metrics.elidedText(code, Qt.TextElideMode.ElideRight, room))
    painter.setPen(QColor("white") if analysis.ok else QColor("black"))
    said = ("✓ " if analysis.ok else "↻ ") + said
    painter.drawText(bottom, flags, metrics.elidedText(said, Qt.TextElideMode.ElideRight, room))
    if 0 < progress < 1:
        bar = QRectF(bottom.left(), bottom.top() - 6, bottom.width() * progress, 6)
        painter.fillRect(bar, BLUE)
    painter.restore()
