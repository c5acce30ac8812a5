"""Hologram: analyse a tilt burst (video or folder), show the tilt coverage as a ring,
the directions still missing, and the verdict against an enrolled hologram."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.flows.hologram import BurstResult, analyse_burst
from app.tasks import Task
from fingerprint.hologram import HologramTemplate, TiltCoverage


class ProgressRing(QWidget):
    """A ring split into the tilt sectors: seen ones filled, the share seen in the middle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._coverage: TiltCoverage | None = None
        self.setMinimumSize(120, 120)

    def set_coverage(self, coverage: TiltCoverage) -> None:
        self._coverage = coverage
        self.update()

    def progress(self) -> float:
        return self._coverage.progress if self._coverage is not None else 0.0

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height()) - 16
        box = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        sectors = self._coverage.sectors if self._coverage is not None else (False,) * 8
        span = 360 / len(sectors)
        for k, seen in enumerate(sectors):
            painter.setPen(QPen(QColor("#2e7d32" if seen else "#cfd8dc"), 10))
            # sector k is centred on k·span, measured clockwise from the label's right
            start = -(k * span + span / 2) + 2
            painter.drawArc(box, round(start * 16), round(-(span - 4) * 16))
        painter.setPen(QColor("#263238"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, f"{round(100 * self.progress())}%")
        painter.end()


class HologramPage(QWidget):
    """Pick a burst; it is analysed off the UI thread (`app.flows.hologram.analyse_burst`)."""

    analysed = Signal(object)
    """A `BurstResult`, once shown."""

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._reference: HologramTemplate | None = None
        self.ring = ProgressRing()
        self.missing = QLabel("Tilt the item round, towards every side.")
        self.verdict = QLabel("")
        self.missing.setWordWrap(True)
        pick = QPushButton("Open burst…")
        pick.clicked.connect(self._on_pick)
        row = QHBoxLayout()
        row.addWidget(self.ring)
        row.addWidget(self.missing, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.verdict)
        layout.addWidget(pick)

    def set_reference(self, template: HologramTemplate | None) -> None:
        """The enrolled hologram bursts are matched against (None: analyse only)."""
        self._reference = template

    def analyse(self, source: Path) -> None:
        """Analyse the burst at ``source`` in the pool; the result is shown when it comes."""
        self.verdict.setText(f"Analysing {source.name}…")
        task = Task(partial(analyse_burst, source, self._reference))
        task.signals.done.connect(self._show)
        task.signals.failed.connect(self._show_error)
        self._pool.start(task)

    @Slot()
    def _on_pick(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of burst frames")
        if folder:
            self.analyse(Path(folder))

    @Slot(object)
    def _show(self, result: BurstResult) -> None:
        coverage = result.coverage
        self.ring.set_coverage(coverage)
        if coverage.complete:
            self.missing.setText("Enough tilt directions seen.")
        else:
            self.missing.setText("Still tilt towards: " + ", ".join(coverage.missing))
        if result.verdict is None:
            self.verdict.setText(f"Hologram template {result.template.digest()[:16]}…")
        else:
            reasons = ", ".join(r.replace("_", " ") for r in result.verdict.reasons)
            self.verdict.setText(
                f"{result.verdict.decision.value.upper()}" + (f": {reasons}" if reasons else "")
            )
        self.analysed.emit(result)

    @Slot(object)
    def _show_error(self, error: Exception) -> None:
        self.verdict.setText(f"Cannot analyse this burst: {error}")
