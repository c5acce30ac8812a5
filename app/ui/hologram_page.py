"""Hologram: analyse a tilt burst (video or folder), show the tilt coverage as a ring,
the directions still missing, and the verdict against the hologram enrolled on the
ledger for the item typed, or read from the burst's code."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.flows.hologram import BurstResult, analyse_burst, analyse_enrolled
from app.tasks import Task
from app.ui.widgets.item_fields import ItemFields
from fingerprint.hologram import HologramTemplate, TiltCoverage

if TYPE_CHECKING:
    from app.jobs import Workspace


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
    """Pick a burst; it is analysed off the UI thread and, once a workspace is set, matched
    against the item's enrolled hologram (`app.flows.hologram.analyse_enrolled`)."""

    analysed = Signal(object)
    """A `BurstResult`, once shown."""
    status = Signal(str)

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._reference: HologramTemplate | None = None
        self._workspace: Workspace | None = None
        self.item = ItemFields()
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
        layout.addWidget(self.item)
        layout.addLayout(row)
        layout.addWidget(self.verdict)
        layout.addWidget(pick)

    def set_reference(self, template: HologramTemplate | None) -> None:
        """A hologram to match bursts against instead of the ledger's (None: the ledger's)."""
        self._reference = template

    def set_workspace(self, workspace: Workspace) -> None:
        """Match against the holograms enrolled on ``workspace``'s ledger from now on."""
        self._workspace = workspace

    def analyse(self, source: Path) -> None:
        """Analyse the burst at ``source`` in the pool; the result is shown when it comes.

        It is matched against the reference set, else against the ledger's hologram of
        the item typed or read from the burst, else only analysed (no ledger open yet).
        """
        self.verdict.setText(f"Analysing {source.name}…")
        if self._reference is None and self._workspace is not None:
            job = partial(
                analyse_enrolled,
                source,
                self._workspace.registry,
                self.item.serial.text(),
                self.item.gtin.text(),
            )
        else:
            job = partial(analyse_burst, source, self._reference)
        task = Task(job)
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
                f"{result.verdict.decision.value.upper()}"
                + (f": {reasons}" if reasons else "")
                + (f" (hologram enrolled for {result.item})" if result.item else "")
            )
        self.analysed.emit(result)

    @Slot(object)
    def _show_error(self, error: Exception) -> None:
        self.verdict.setText(f"Cannot analyse this burst: {error}")
