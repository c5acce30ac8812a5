"""Enrol: fingerprint, sign and register a batch of captures, with progress and rejects."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

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

from app.jobs import EnrolStep, Workspace, demo_items, enrol_files, image_files
from app.tasks import Task

DEMO_COUNT = 4


class EnrolPage(QWidget):
    """Pick images or a folder; each is enrolled in turn in the thread pool."""

    status = Signal(str)
    batch_finished = Signal(int, int)
    """Emitted with the numbers enrolled and refused when a batch ends."""

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._workspace: Workspace | None = None
        self._cancel = threading.Event()
        self._running = False
        self._enrolled = self._refused = 0

        self._key = QLabel("—")
        self._ledger = QLabel("—")
        for label in (self._key, self._ledger):
            label.setWordWrap(True)
        self._images = QPushButton("Add &images…")
        self._folder = QPushButton("Add a &folder…")
        self._demo = QPushButton("Add &demo items")
        self._stop = QPushButton("&Cancel batch")
        self._progress = QProgressBar()
        self._progress.setFormat("%v of %m")
        self._counts = QLabel("No batch yet")
        self.log = QListWidget()
        self.log.setAccessibleName("Rejected captures")

        facts = QFormLayout()
        facts.addRow("Manufacturer key:", self._key)
        facts.addRow("Ledger:", self._ledger)
        buttons = QHBoxLayout()
        for button in (self._images, self._folder, self._demo, self._stop):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(facts)
        layout.addLayout(buttons)
        layout.addWidget(self._progress)
        layout.addWidget(self._counts)
        log_label = QLabel("&Rejected captures and their reasons:")
        log_label.setBuddy(self.log)
        layout.addWidget(log_label)
        layout.addWidget(self.log, 1)

        self._images.clicked.connect(self._on_images_clicked)
        self._folder.clicked.connect(self._on_folder_clicked)
        self._demo.clicked.connect(self.add_demo_items)
        self._stop.clicked.connect(self.cancel)
        self._update_buttons()

    def set_workspace(self, workspace: Workspace) -> None:
        """Enrol with ``workspace``'s key into its ledger from now on."""
        self._workspace = workspace
        self._key.setText(f"{workspace.key.key.format()}\n{workspace.key.skey_path}")
        self._ledger.setText(str(workspace.places.ledger))
        self._update_buttons()

    def enrol_paths(self, paths: list[Path]) -> None:
        """Enrol the images at ``paths`` as one batch."""
        if self._workspace is not None and paths:
            ws = self._workspace
            self._start(
                len(paths),
                partial(
                    enrol_files, paths, signer=ws.signer, registry=ws.registry, cancel=self._cancel
                ),
            )

    @Slot()
    def add_demo_items(self) -> None:
        """Enrol synthetic items; their genuine captures and copies go to the demo folder."""
        if self._workspace is not None:
            ws = self._workspace
            self.status.emit(f"Demo captures to try Verify with: {ws.places.demo}")
            self._start(
                DEMO_COUNT,
                partial(
                    demo_items,
                    ws.places.demo,
                    count=DEMO_COUNT,
                    signer=ws.signer,
                    registry=ws.registry,
                    cancel=self._cancel,
                ),
            )

    @Slot()
    def cancel(self) -> None:
        """Stop the batch after the item in hand."""
        self._cancel.set()

    def _start(self, total: int, steps: Callable[[], Iterable[object]]) -> None:
        if self._running:
            return
        self._cancel.clear()
        self._running = True
        self._enrolled = self._refused = 0
        self._progress.setRange(0, total)
        self._progress.setValue(0)
        self.log.clear()
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
        self._progress.setValue(self._enrolled + self._refused)
        self._counts.setText(f"{self._enrolled} enrolled, {self._refused} refused")

    @Slot(object)
    def _on_batch_done(self, count: int) -> None:
        self._finish(f"Batch done: {self._enrolled} enrolled, {self._refused} refused")

    @Slot(object)
    def _on_batch_failed(self, error: Exception) -> None:
        self.log.addItem(f"batch stopped: {error}")
        self._finish(f"Batch stopped: {error}")

    def _finish(self, message: str) -> None:
        self._running = False
        self._update_buttons()
        self.status.emit(message)
        self.batch_finished.emit(self._enrolled, self._refused)

    @Slot()
    def _on_images_clicked(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Images to enrol", "", "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"
        )
        self.enrol_paths([Path(p) for p in paths])

    @Slot()
    def _on_folder_clicked(self) -> None:
        if folder := QFileDialog.getExistingDirectory(self, "Folder of images to enrol"):
            self.enrol_paths(image_files(Path(folder)))

    def _update_buttons(self) -> None:
        idle = self._workspace is not None and not self._running
        for button in (self._images, self._folder, self._demo):
            button.setEnabled(idle)
        self._stop.setEnabled(self._running)
