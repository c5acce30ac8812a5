"""Hologram: record a tilt burst live (camera, video, phone) or open one (folder, video),
show the tilt coverage as a ring and the directions still missing, and the verdict
against the hologram enrolled on the ledger for the item typed, or read from the burst's
code."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QRectF, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.flows.hologram import Burst, BurstResult, analyse_burst, analyse_enrolled
from app.flows.tilt_burst import BurstRecorder
from app.tasks import LatestOnly, Task
from app.ui.widgets.capture_panel import Analysed, CapturePage, CapturePanel, SourceKind
from app.ui.widgets.item_fields import ItemFields
from app.ui.widgets.verdict import Look, VerdictBadge
from fingerprint.hologram import HologramTemplate, TiltCoverage, tilt_coverage
from registry_client.registry import NotRegisteredError

if TYPE_CHECKING:
    from app.jobs import Workspace

COVERAGE_RATE = 4.0
"""Coverage updates a second at most while recording (each registers the whole burst)."""


class ProgressRing(QWidget):
    """A ring split into the tilt sectors: seen ones filled, the share seen in the middle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._coverage: TiltCoverage | None = None
        self.setMinimumSize(120, 120)

    def set_coverage(self, coverage: TiltCoverage | None) -> None:
        """Show ``coverage``; ``None`` empties the ring."""
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


class HologramPage(CapturePage):
    """Record a burst from the capture panel's source, or open one; it is analysed off
    the UI thread and, once a workspace is set, matched against the item's enrolled
    hologram (`app.flows.hologram.analyse_enrolled`).

    Recording is armed when the page opens and by *Record a new burst*: every analysed
    frame showing the code goes to a `BurstRecorder`, the ring follows the coverage of
    the frames kept, and the burst is analysed as soon as it is complete (or full).
    """

    analysed = Signal(object)
    """A `BurstResult`, once shown."""
    status = Signal(str)

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._reference: HologramTemplate | None = None
        self._workspace: Workspace | None = None
        self.recorder: BurstRecorder | None = BurstRecorder()
        """The burst being recorded; ``None`` while none is (analysing, or shown)."""
        self._coverage = LatestOnly(pool, rate=COVERAGE_RATE, parent=self)
        self._coverage.done.connect(self._on_coverage)
        self._coverage.failed.connect(self._show_error)
        self.capture = CapturePanel(pool, kind=SourceKind.CAMERA)
        self.capture.auto.setChecked(False)
        self.capture.auto.setVisible(False)  # every frame is offered to the burst instead
        self.capture.phone_videos = True
        self.capture.analysed.connect(self._on_frame)
        self.capture.ended.connect(self._on_source_ended)
        self.capture.status.connect(self.status)
        self.item = ItemFields()
        self.ring = ProgressRing()
        self.missing = QLabel("Tilt the item round, towards every side.")
        self.verdict = VerdictBadge()
        self.missing.setWordWrap(True)
        self.capture.live.good = "good: now tilt it slowly, towards every side"
        self.record = QPushButton("&Record a new burst")
        self.record.clicked.connect(self.start_recording)
        self.finish = QPushButton("Analyse the burst &now")
        self.finish.setToolTip("Stop recording and analyse the frames kept so far")
        self.finish.clicked.connect(self.finish_recording)
        open_folder = QPushButton("Open burst &folder…")
        open_folder.clicked.connect(self._on_open_folder)
        open_video = QPushButton("Open burst vi&deo…")
        open_video.clicked.connect(self._on_open_video)
        side = QVBoxLayout()
        side.addWidget(self.item)
        side.addWidget(self.ring, 0, Qt.AlignmentFlag.AlignHCenter)
        side.addWidget(self.missing)
        side.addWidget(self.verdict)
        side.addStretch(1)
        for button in (self.finish, self.record, open_folder, open_video):
            side.addWidget(button)
        layout = QHBoxLayout(self)
        layout.addWidget(self.capture, 3)
        layout.addLayout(side, 2)
        self.record.setEnabled(False)
        self.finish.setEnabled(False)

    def set_reference(self, template: HologramTemplate | None) -> None:
        """A hologram to match bursts against instead of the ledger's (None: the ledger's)."""
        self._reference = template

    def set_workspace(self, workspace: Workspace) -> None:
        """Match against the holograms enrolled on ``workspace``'s ledger from now on."""
        self._workspace = workspace

    @Slot()
    def start_recording(self) -> None:
        """Forget the last burst and record a new one from the frames that come next."""
        self.recorder = BurstRecorder()
        self._coverage.cancel()
        self.ring.set_coverage(None)
        self.missing.setText("Recording: tilt the item slowly towards every side.")
        self.verdict.show_look(Look.IDLE, "")
        self.record.setEnabled(False)

    @Slot()
    def finish_recording(self) -> None:
        """Analyse the frames kept so far (enough for a burst, not yet complete): for a
        phone video or a sweep the user judges done."""
        if (
            self.recorder is not None
            and len(self.recorder.frames) >= self.recorder.params.min_frames
        ):
            self.analyse(tuple(self.recorder.frames))

    def analyse(self, source: Burst) -> None:
        """Analyse the burst ``source`` in the pool; the result is shown when it comes.

        It is matched against the reference set, else against the ledger's hologram of
        the item typed or read from the burst, else only analysed (no ledger open yet).
        Recording stops until *Record a new burst*.
        """
        self.recorder = None
        self._coverage.cancel()
        self.finish.setEnabled(False)
        what = source.name if isinstance(source, Path) else f"{len(source)} frames"
        self.verdict.show_look(Look.BUSY, f"Analysing {what}…")
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

    @Slot(object)
    def _on_frame(self, result: Analysed) -> None:
        recorder = self.recorder
        if recorder is None:
            return
        analysis = result.analysis
        item = None if analysis.serial is None else (analysis.gtin, analysis.serial)
        if recorder.is_another_item(item):
            self.start_recording()
            self.status.emit(f"Hologram: another item ({analysis.serial}), a new burst")
            recorder = self.recorder
            assert recorder is not None
        if not recorder.offer(result.frame.image, item=item):
            if not recorder.frames:
                self.missing.setText("Show the item's code to start the burst.")
            return
        frames = tuple(recorder.frames)
        self.finish.setEnabled(len(frames) >= recorder.params.min_frames)
        self._coverage.submit(partial(_coverage, recorder, frames))

    @Slot()
    def _on_source_ended(self) -> None:
        """A file or phone video ran out, or the source was stopped: the burst recorded
        so far is analysed, if it is long enough to be one."""
        recorder = self.recorder
        if recorder is None or not recorder.frames:
            return
        if len(recorder.frames) < recorder.params.min_frames:
            self.missing.setText(
                f"Only {len(recorder.frames)} frames showed the code; a burst needs "
                f"{recorder.params.min_frames}. Open the source again and tilt more slowly."
            )
            return
        self.analyse(tuple(recorder.frames))

    @Slot(object)
    def _on_coverage(self, counted: tuple[BurstRecorder, int, TiltCoverage]) -> None:
        recorder, count, coverage = counted
        if recorder is not self.recorder:
            return  # a late answer for a burst already analysed or replaced
        self._show_coverage(coverage, f"{len(recorder.frames)} frames. ")
        if recorder.done(coverage, count):
            self.analyse(tuple(recorder.frames))

    def _show_coverage(self, coverage: TiltCoverage, prefix: str = "") -> None:
        self.ring.set_coverage(coverage)
        if coverage.complete:
            self.missing.setText(prefix + "Enough tilt directions seen.")
        else:
            self.missing.setText(prefix + "Still tilt towards: " + ", ".join(coverage.missing))

    @Slot()
    def _on_open_folder(self) -> None:
        if folder := QFileDialog.getExistingDirectory(self, "Folder of burst frames"):
            self.analyse(Path(folder))

    @Slot()
    def _on_open_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Burst video", "", "Videos (*)")
        if path:
            self.analyse(Path(path))

    @Slot(object)
    def _show(self, result: BurstResult) -> None:
        self._show_coverage(result.coverage)
        if result.verdict is None:
            self.verdict.show_look(
                Look.IDLE, f"Hologram template {result.template.digest()[:16]}… (no reference)"
            )
        else:
            reasons = ", ".join(r.replace("_", " ") for r in result.verdict.reasons)
            enrolled = f"hologram enrolled for {result.item}" if result.item else ""
            self.verdict.show_look(
                Look(result.verdict.decision.value), " · ".join(filter(None, (reasons, enrolled)))
            )
        self.record.setEnabled(True)
        self.analysed.emit(result)

    @Slot(object)
    def _show_error(self, error: Exception) -> None:
        self.recorder = None
        look = Look.NOT_REGISTERED if isinstance(error, NotRegisteredError) else Look.ERROR
        self.verdict.show_look(look, f"Cannot analyse this burst: {error}")
        self.record.setEnabled(True)


def _coverage(
    recorder: BurstRecorder, frames: tuple[NDArray[np.uint8], ...]
) -> tuple[BurstRecorder, int, TiltCoverage]:
    """The coverage of ``frames``, kept by ``recorder`` (only handed back, to know whose
    answer it is), with their count (frames kept later are not in it)."""
    return recorder, len(frames), tilt_coverage(frames)
