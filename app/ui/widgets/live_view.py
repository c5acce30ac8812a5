"""The live view: the newest frame, scaled to fit, with a guide box to aim with."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.capture.source import Frame

GUIDE = 0.7
"""The guide box's share of the picture's width and height."""


def to_qimage(frame: Frame) -> QImage:
    """The frame's BGR pixels as a ``QImage`` that owns a copy of them."""
    image = frame.image
    height, width, _ = image.shape
    view = QImage(image.data, width, height, 3 * width, QImage.Format.Format_BGR888)
    return view.copy()


class LiveView(QWidget):
    """Shows frames as they arrive, with a guide box and a hint line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._frame: Frame | None = None
        self._hint = "Open an image, folder, video, stream or phone to see it here"
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Live view")

    def sizeHint(self) -> QSize:
        return QSize(560, 420)

    def last_frame(self) -> Frame | None:
        """The frame shown, if any."""
        return self._frame

    def show_frame(self, frame: Frame) -> None:
        """Show ``frame``."""
        self._frame = frame
        self._image = to_qimage(frame)
        self._hint = f"{frame.source} · frame {frame.index + 1}"
        self.update()

    def set_hint(self, text: str) -> None:
        """Replace the line under the picture."""
        self._hint = text
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1E1E1E"))
        line = painter.fontMetrics().height() + 8
        area = QRectF(self.rect().adjusted(0, 0, 0, -line))
        if not self._image.isNull():
            size = self._image.size().scaled(
                area.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio
            )
            target = QRectF(
                area.left() + (area.width() - size.width()) / 2,
                area.top() + (area.height() - size.height()) / 2,
                size.width(),
                size.height(),
            )
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
            area = target
        guide = QRectF(
            area.left() + area.width() * (1 - GUIDE) / 2,
            area.top() + area.height() * (1 - GUIDE) / 2,
            area.width() * GUIDE,
            area.height() * GUIDE,
        )
        painter.setPen(QPen(QColor("#F0E442"), 2, Qt.PenStyle.DashLine))
        painter.drawRect(guide)
        painter.setPen(QColor("white"))
        painter.drawText(
            QRectF(6, self.height() - line, self.width() - 12, line),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            self._hint,
        )
        painter.end()
