"""The evidence view: enrolled and live windows side by side, matched keypoints joined."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.flows.evidence import EvidencePicture

SKY = QColor("#56B4E9")
"""Okabe–Ito sky blue: pairs the geometry agreed with."""
OUTLIER = QColor(213, 94, 0, 110)
"""Okabe–Ito vermillion, faint: pairs it rejected."""
MAX_LINES = 40
"""At most this many pairs of each kind are drawn, so the texture stays visible."""


def _grey(pixels: np.ndarray) -> QImage:
    height, width = pixels.shape
    data = np.ascontiguousarray(pixels)
    return QImage(data.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


class EvidenceView(QWidget):
    """Paints an `EvidencePicture`; blank until given one."""

    GAP = 12

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._picture: EvidencePicture | None = None
        self._images: tuple[QImage, QImage] | None = None
        self.setMinimumHeight(180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Evidence: matched keypoints")

    def sizeHint(self) -> QSize:
        return QSize(420, 230)

    def heightForWidth(self, width: int) -> int:
        return (width - self.GAP) // 2 + self.fontMetrics().height() + 6

    def hasHeightForWidth(self) -> bool:
        return True

    def set_picture(self, picture: EvidencePicture | None) -> None:
        """Show ``picture`` (``None`` clears the view)."""
        self._picture = picture
        self._images = None if picture is None else (_grey(picture.enrolled), _grey(picture.live))
        if picture is not None:
            self.setAccessibleDescription(
                f"{picture.inlier_count} of {len(picture.inliers)} keypoint pairs agree"
            )
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._picture is None or self._images is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        caption = self.fontMetrics().height() + 6
        side = min((self.width() - self.GAP) / 2, self.height() - caption)
        left = QRectF(0, caption, side, side)
        right = QRectF(side + self.GAP, caption, side, side)
        painter.setPen(self.palette().windowText().color())
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRectF(0, 0, side, caption), flags, "Enrolled window")
        painter.drawText(
            QRectF(right.left(), 0, side, caption), flags, "Live window, aligned to it"
        )
        for rect, image in zip((left, right), self._images, strict=True):
            painter.drawImage(rect, image)
        scale = side / self._picture.enrolled.shape[0]
        pairs, inliers = self._picture.pairs, self._picture.inliers
        for keep, colour, width in ((~inliers, OUTLIER, 1.0), (inliers, SKY, 1.4)):
            painter.setPen(QPen(colour, width))
            for x1, y1, x2, y2 in pairs[keep][:MAX_LINES]:
                a = QPointF(left.left() + x1 * scale, left.top() + y1 * scale)
                b = QPointF(right.left() + x2 * scale, right.top() + y2 * scale)
                painter.drawLine(a, b)
                painter.drawEllipse(a, 2.5, 2.5)
                painter.drawEllipse(b, 2.5, 2.5)
        painter.end()
