"""Enrol: items at the line, or a folder of captures; each fingerprinted, signed and
registered in batches, with throughput, queue, progress and a log of rejects."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.flows.enrol import BatchRegistry, enrol_batch
from app.flows.line import Action, LineQueue, LineTracker, Throughput
from app.jobs import EnrolStep, Workspace, demo_items, enrol_each, image_files
from app.tasks import Task
from app.ui.widgets.capture_panel import (
    ANALYSIS_RATE,
    IMAGE_FILTER,
    STEADY_FRAMES,
    Analysed,
    CapturePage,
    CapturePanel,
    SourceKind,
)
from fingerprint.image import ImageInput
from registry_client.item import ItemId
from registry_client.records import Signer

DEMO_COUNT = 4
BATCH_SIZE = 4
"""Items per batch handed to the enrolment worker."""
BATCH_WAIT = 2.0
"""Seconds an item waits at most for its batch to fill."""
QUEUE_CAPACITY = 32
"""Items that may wait; more are rejected (present them again)."""

Capture = tuple[str, NDArray[np.uint8]]


def _line_batch(
    captures: Sequence[Capture], *, signer: Signer, registry: BatchRegistry
) -> Iterator[EnrolStep]:
    """Enrol a batch from the line in one ledger append (`enrol_batch`): a step per item."""
    results = enrol_batch([image for _, image in captures], signer=signer, registry=registry)
    for (name, _), result in zip(captures, results, strict=True):
        if isinstance(result, ItemId):
            yield EnrolStep(name=name, serial=result.serial)
        else:
            yield EnrolStep(name=name, error=str(result))


class EnrolPage(CapturePage):
    """The line camera and its stats, batch import, and the log of rejects."""

    status = Signal(str)
    batch_finished = Signal(int, int)
    """A file or demo batch ended: the numbers enrolled and refused."""
    line_finished = Signal(int, int)
    """The line stopped (or its source ended) and every item taken was enrolled or
    refused: the numbers enrolled and refused."""

    def __init__(
        self,
        pool: QThreadPool,
        *,
        steady_frames: int = STEADY_FRAMES,
        rate: float = ANALYSIS_RATE,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self._workspace: Workspace | None = None
        self._cancel = threading.Event()
        self._steady_frames = steady_frames
        self._batch_running = False
        self._line_on = False
        self._line_ending = False
        self._in_flight = 0
        self._enrolled = self._refused = self._total = 0
        self._tracker = LineTracker(steady_frames)
        self._queue: LineQueue[Capture] = LineQueue(
            batch_size=BATCH_SIZE, max_wait=BATCH_WAIT, capacity=QUEUE_CAPACITY
        )
        self._rate = Throughput()

        self._key = QLabel("—")
        self._ledger = QLabel("—")
        for label in (self._key, self._ledger):
            label.setWordWrap(True)
        self.line_button = QPushButton("Start &line")
        self.line_button.setCheckable(True)
        self.line_button.setToolTip(
            "Enrol each item that passes the camera once its capture is steady"
        )
        self._images = QPushButton("Add &images…")
        self._folder = QPushButton("Add a &folder…")
        self._demo = QPushButton("Add &demo items")
        self._stop = QPushButton("&Cancel batch")
        self.capture = CapturePanel(
            pool, steady_frames=steady_frames, rate=rate, kind=SourceKind.CAMERA
        )
        self.capture.auto.setVisible(False)
        self._progress = QProgressBar()
        self._progress.setFormat("%v of %m")
        self._progress.setRange(0, 1)
        self.counts = QLabel("No batch yet")
        self.line_stats = QLabel("Line stopped")
        self.line_stats.setWordWrap(True)
        self.log = QListWidget()
        self.log.setAccessibleName("Rejected captures")

        facts = QFormLayout()
        facts.addRow("Manufacturer key:", self._key)
        facts.addRow("Ledger:", self._ledger)
        buttons = QHBoxLayout()
        for button in (self.line_button, self._images, self._folder, self._demo, self._stop):
            buttons.addWidget(button)
        buttons.addStretch(1)
        stats = QVBoxLayout()
        stats.addWidget(self.line_stats)
        stats.addWidget(self._progress)
        stats.addWidget(self.counts)
        log_label = QLabel("&Rejected captures and their reasons:")
        log_label.setBuddy(self.log)
        stats.addWidget(log_label)
        stats.addWidget(self.log, 1)
        panes = QHBoxLayout()
        panes.addWidget(self.capture, 3)
        panes.addLayout(stats, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(facts)
        layout.addLayout(buttons)
        layout.addLayout(panes, 1)

        self.line_button.toggled.connect(self._on_line_toggled)
        self._images.clicked.connect(self._on_images_clicked)
        self._folder.clicked.connect(self._on_folder_clicked)
        self._demo.clicked.connect(self.add_demo_items)
        self._stop.clicked.connect(self.cancel)
        self.capture.status.connect(self.status)
        self.capture.analysed.connect(self._on_analysed)
        self.capture.ended.connect(self._on_source_ended)
        self._update_buttons()

    def set_workspace(self, workspace: Workspace) -> None:
        """Enrol with ``workspace``'s key into its ledger from now on."""
        self._workspace = workspace
        self._key.setText(f"{workspace.key.key.format()}\n{workspace.key.skey_path}")
        self._ledger.setText(str(workspace.places.ledger))
        self._update_buttons()

    def enrol_paths(self, paths: list[Path]) -> None:
        """Enrol the images at ``paths`` as one batch."""
        if self._workspace is not None and paths and not self._busy():
            self._reset(len(paths))
            self._enrol([(p.name, p) for p in paths])

    @Slot()
    def add_demo_items(self) -> None:
        """Enrol synthetic items; their genuine captures and copies go to the demo folder."""
        ws = self._workspace
        if ws is not None and not self._busy():
            self.status.emit(f"Demo captures to try Verify with: {ws.places.demo}")
            self._reset(DEMO_COUNT)
            steps = partial(
                demo_items,
                ws.places.demo,
                count=DEMO_COUNT,
                signer=ws.signer,
                registry=ws.registry,
                cancel=self._cancel,
            )
            self._run(steps)

    def start_line(self) -> None:
        """Enrol items passing the camera from now on (choose the camera source too)."""
        self.line_button.setChecked(True)

    def stop_line(self) -> None:
        """Stop taking items; those taken still get enrolled, then `line_finished`."""
        self.line_button.setChecked(False)

    @Slot()
    def cancel(self) -> None:
        """Stop the batch after the item in hand."""
        self._cancel.set()

    @Slot(bool)
    def _on_line_toggled(self, on: bool) -> None:
        if on and not self._line_on:
            if self._workspace is None or self._batch_running:
                self.line_button.setChecked(False)
                return
            self._line_on, self._line_ending = True, False
            self._tracker = LineTracker(self._steady_frames)
            self._reset(0)
            self._rate.start(time.monotonic())
            self.status.emit("Line running: present items to the camera one by one")
            self._show_line()
        elif not on and self._line_on:
            self._end_line()
        self.line_button.setText("Stop &line" if on else "Start &line")
        self._update_buttons()

    @Slot(object)
    def _on_analysed(self, analysed: Analysed) -> None:
        if not self._line_on or self._line_ending:
            return
        for sighting in self._tracker.observe(analysed.analysis):
            if sighting.action is Action.REJECT:
                self._reject(sighting.serial, sighting.reason)
            elif self._queue.put((sighting.serial, analysed.frame.image), time.monotonic()):
                self._total += 1
            else:
                self._reject(sighting.serial, "queue full: present it again")
        self._pump()

    @Slot()
    def _on_source_ended(self) -> None:
        if self._line_on:
            self.stop_line()

    def _end_line(self) -> None:
        for sighting in self._tracker.finish():
            self._reject(sighting.serial, sighting.reason)
        self._line_ending = True
        self._pump()

    def _pump(self) -> None:
        """Hand the next batch to the worker when it is free and a batch is due."""
        due = self._queue.ready(time.monotonic()) or (self._line_ending and len(self._queue))
        if due and not self._batch_running:
            batch = self._queue.take()
            self._in_flight = len(batch)
            ws = self._workspace
            if ws is not None:
                self._run(partial(_line_batch, batch, signer=ws.signer, registry=ws.registry))
        self._show_line()
        if self._line_ending and not self._batch_running and not len(self._queue):
            self._line_on = self._line_ending = False
            self.status.emit(f"Line stopped: {self._enrolled} enrolled, {self._refused} refused")
            self._show_line()
            self._update_buttons()
            self.line_finished.emit(self._enrolled, self._refused)

    def _enrol(self, captures: Sequence[tuple[str, ImageInput]]) -> None:
        ws = self._workspace
        if ws is not None:
            cancel = self._cancel
            self._run(
                partial(enrol_each, captures, signer=ws.signer, registry=ws.registry, cancel=cancel)
            )

    def _reset(self, total: int) -> None:
        self._cancel.clear()
        self._enrolled = self._refused = 0
        self._total = total
        self.log.clear()
        self._count()

    def _run(self, steps: Callable[[], Iterable[object]]) -> None:
        self._batch_running = True
        task = Task.steps(steps)
        task.signals.step.connect(self._on_step)
        task.signals.done.connect(self._on_batch_done)
        task.signals.failed.connect(self._on_batch_failed)
        self._update_buttons()
        self._pool.start(task)

    @Slot(object)
    def _on_step(self, step: EnrolStep) -> None:
        if step.error is None:
            self._enrolled += 1
        else:
            self._refused += 1
            self.log.addItem(f"{step.name}: {step.error}")
        self._in_flight = max(0, self._in_flight - 1)
        self._rate.add(time.monotonic())
        self._count()
        self._show_line()

    @Slot(object)
    def _on_batch_done(self, count: int) -> None:
        self._batch_finished(f"Batch done: {self._enrolled} enrolled, {self._refused} refused")

    @Slot(object)
    def _on_batch_failed(self, error: Exception) -> None:
        self.log.addItem(f"batch stopped: {error}")
        self._batch_finished(f"Batch stopped: {error}")

    def _batch_finished(self, message: str) -> None:
        self._batch_running = False
        self._in_flight = 0
        self._update_buttons()
        if self._line_on:
            self._pump()
            return
        self.status.emit(message)
        self.batch_finished.emit(self._enrolled, self._refused)

    def _reject(self, name: str, reason: str) -> None:
        self._refused += 1
        self._total += 1
        self.log.addItem(f"{name}: {reason}")
        self._count()

    def _count(self) -> None:
        self._progress.setRange(0, max(1, self._total))
        self._progress.setValue(self._enrolled + self._refused)
        self.counts.setText(f"{self._enrolled} enrolled, {self._refused} refused")

    def _show_line(self) -> None:
        if not self._line_on:
            self.line_stats.setText("Line stopped")
            return
        rate = self._rate.per_minute(time.monotonic())
        state = "Line stopping" if self._line_ending else "Line running"
        self.line_stats.setText(
            f"{state} · {len(self._queue)} waiting · {self._in_flight} enrolling · "
            f"{rate:.0f} items/min"
        )

    def _busy(self) -> bool:
        return self._batch_running or self._line_on

    @Slot()
    def _on_images_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Images to enrol", "", IMAGE_FILTER)
        self.enrol_paths([Path(p) for p in paths])

    @Slot()
    def _on_folder_clicked(self) -> None:
        if folder := QFileDialog.getExistingDirectory(self, "Folder of images to enrol"):
            self.enrol_paths(image_files(Path(folder)))

    def _update_buttons(self) -> None:
        idle = self._workspace is not None and not self._busy()
        for button in (self._images, self._folder, self._demo):
            button.setEnabled(idle)
        self.line_button.setEnabled(
            self._workspace is not None and (self._line_on or not self._batch_running)
        )
        self._stop.setEnabled(self._batch_running and not self._line_on)
