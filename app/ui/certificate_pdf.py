"""Draw a verification certificate as a one-page A4 PDF with ``QPdfWriter``.

The page states `certificate.page_claims` (verdict, item, payload digest) each on a line
of its own, lists `certificate.page_rows`, prints the tlog-proof text and a QR code
(segno) of `certificate.qr_text`, and embeds the signed payload as the file
`certificate.ATTACHMENT` (``QPdfWriter.addFileAttachment``, Qt ≥ 6.8), which
``hallmark verify-certificate`` checks.
"""

from __future__ import annotations

import io
from pathlib import Path

import segno
from PySide6.QtCore import QByteArray, QMarginsF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
)

from app.flows.certificate import ATTACHMENT, Certificate, page_claims, page_rows, qr_text
from app.flows.verify import Outcome

DPI = 300
MARGIN_MM = 15
_COLOURS = {  # Okabe–Ito, as on the Verify page
    Outcome.GENUINE: "#0072B2",
    Outcome.COUNTERFEIT: "#D55E00",
    Outcome.RETAKE: "#E69F00",
}


def write_pdf(cert: Certificate, path: Path) -> None:
    """Write ``cert`` to ``path`` as a PDF with its payload attached (atomically)."""
    temp = path.with_name(f".{path.name}.part")
    writer = QPdfWriter(str(temp))
    writer.setResolution(DPI)
    writer.setTitle(f"Hallmark verification certificate {cert.record.gtin} {cert.record.serial}")
    writer.setCreator("Hallmark")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.addFileAttachment(ATTACHMENT, QByteArray(cert.payload), "text/plain")
    painter = QPainter(writer)
    if not painter.isActive():
        raise OSError(f"cannot write a PDF to {temp}")
    try:
        _Page(painter, writer.width()).draw(cert)
    finally:
        painter.end()
    temp.replace(path)


def page_image(cert: Certificate, width: int = 1240) -> QImage:
    """The certificate's page drawn on an A4 image ``width`` pixels wide, margins
    included, as the PDF shows it: for previews and documentation."""
    height = round(width * 297 / 210)
    scale = width / (210 / 25.4 * DPI)
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#FFFFFF"))
    image.setDotsPerMeterX(round(DPI / 0.0254))  # fonts sized as on the PDF, then scaled
    image.setDotsPerMeterY(round(DPI / 0.0254))
    painter = QPainter(image)
    try:
        painter.scale(scale, scale)
        margin = MARGIN_MM / 25.4 * DPI
        painter.translate(margin, margin)
        _Page(painter, round(width / scale - 2 * margin)).draw(cert)
    finally:
        painter.end()
    return image


class _Page:
    """A cursor moving down the page; sizes in points converted to device pixels."""

    def __init__(self, painter: QPainter, width: int) -> None:
        self._p = painter
        self._width = float(width)
        self._y = 0.0

    def _pt(self, points: float) -> float:
        return points * DPI / 72

    def _font(self, size: float, *, bold: bool = False, mono: bool = False) -> QFont:
        font = QFont("DejaVu Sans Mono" if mono else "DejaVu Sans")
        if mono:
            font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(size)
        font.setBold(bold)
        return font

    def _line(self, text: str, font: QFont, colour: str = "#000000") -> None:
        self._p.setFont(font)
        self._p.setPen(QColor(colour))
        height = QFontMetricsF(font, self._p.device()).height()
        self._p.drawText(QRectF(0, self._y, self._width, height), text)
        self._y += height

    def draw(self, cert: Certificate) -> None:
        qr_side = self._pt(110)
        self._line("Hallmark verification certificate", self._font(18, bold=True))
        self._y += self._pt(6)
        verdict, item, digest = page_claims(cert)
        band = self._pt(34)
        self._p.fillRect(
            QRectF(0, self._y, self._width - qr_side - self._pt(12), band),
            QColor(_COLOURS[cert.outcome]),
        )
        self._p.setFont(self._font(20, bold=True))
        self._p.setPen(QColor("#FFFFFF"))
        self._p.drawText(
            QRectF(self._pt(10), self._y, self._width, band),
            Qt.AlignmentFlag.AlignVCenter,
            verdict,
        )
        self._draw_qr(cert, qr_side)
        self._y += band + self._pt(8)
        self._line(item, self._font(11, bold=True))
        self._y += self._pt(110 - 34 - 8 - 24)  # below the QR code
        self._rows(page_rows(cert))
        self._y += self._pt(8)
        self._line(
            "Transparency proof (c2sp.org/tlog-proof@v1) of the record", self._font(10, bold=True)
        )
        mono = self._font(6.5, mono=True)
        for line in _wrap(cert.proof, 110):
            self._line(line, mono)
        self._y += self._pt(8)
        self._line(digest, self._font(7.5, mono=True))
        note = (
            f"The signed payload is attached to this PDF as {ATTACHMENT}. Check it with "
            "`hallmark verify-certificate FILE.pdf --policy POLICY`: it verifies the device's "
            "signature, the manufacturer's record, the proof and the checkpoint, and that "
            "this page states the verdict, item and digest above."
        )
        self._paragraph(note, self._font(8))

    def _draw_qr(self, cert: Certificate, side: float) -> None:
        png = io.BytesIO()
        segno.make(qr_text(cert), error="m").save(png, kind="png", scale=8, border=2)
        image = QImage.fromData(png.getvalue())
        self._p.drawImage(QRectF(self._width - side, self._y - self._pt(6), side, side), image)

    def _rows(self, rows: list[tuple[str, str]]) -> None:
        label_font, value_font = self._font(9, bold=True), self._font(9)
        label_width = self._pt(110)
        for label, value in rows:
            self._p.setFont(label_font)
            self._p.setPen(QColor("#000000"))
            metrics = QFontMetricsF(value_font, self._p.device())
            rect = QRectF(label_width, self._y, self._width - label_width, 10_000)
            flags = Qt.TextFlag.TextWrapAnywhere
            bound = metrics.boundingRect(rect, flags, value)
            self._p.drawText(QRectF(0, self._y, label_width, bound.height()), label)
            self._p.setFont(value_font)
            self._p.drawText(rect, flags, value)
            self._y += bound.height() + self._pt(1.5)

    def _paragraph(self, text: str, font: QFont) -> None:
        self._p.setFont(font)
        self._p.setPen(QColor("#333333"))
        rect = QRectF(0, self._y, self._width, 10_000)
        bound = QFontMetricsF(font, self._p.device()).boundingRect(
            rect, Qt.TextFlag.TextWordWrap, text
        )
        self._p.drawText(rect, Qt.TextFlag.TextWordWrap, text)
        self._y += bound.height()


def _wrap(text: str, width: int) -> list[str]:
    """``text``'s lines, each cut into pieces of at most ``width`` characters."""
    return [
        line[start : start + width]
        for line in text.split("\n")
        for start in range(0, max(len(line), 1), width)
    ]
