"""The main window: composes the Verify, Enrol and Inspect pages and a status line.

`run` is the desktop app's entry point (``hallmark gui``). The window opens the local
ledger in the thread pool, making it and a manufacturer key on first run, then offers
demo items.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

import platformdirs
from PySide6.QtCore import QThreadPool, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.settings import APPLICATION, ORGANIZATION, Settings
from app.tasks import Task

if TYPE_CHECKING:
    from app.jobs import Places, Workspace

SHUTDOWN_WAIT_MS = 10_000


class MainWindow(QMainWindow):
    """Tabs for the three modes, a first-run banner and the status line."""

    def __init__(
        self, places: Places, pool: QThreadPool, settings: Settings, parent: QWidget | None = None
    ) -> None:
        # The pages import the fingerprint engine (Numba): imported here, not at module
        # level, so that `run` sets NUMBA_CACHE_DIR before Numba reads it.
        from app.ui.enrol_page import EnrolPage
        from app.ui.inspect_page import InspectPage
        from app.ui.verify_page import VerifyPage

        super().__init__(parent)
        self._places = places
        self._pool = pool
        self._settings = settings
        self._workspace: Workspace | None = None
        self.setWindowTitle("Hallmark")
        self.verify_page = VerifyPage(pool)
        self.enrol_page = EnrolPage(pool)
        self.inspect_page = InspectPage(pool)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.verify_page, "&1 Verify")
        self.tabs.addTab(self.enrol_page, "&2 Enrol")
        self.tabs.addTab(self.inspect_page, "&3 Inspect offline")
        self.banner = QWidget()
        self._banner_text = QLabel()
        self._banner_text.setWordWrap(True)
        self.demo_button = QPushButton("Add &demo items")
        row = QHBoxLayout(self.banner)
        row.addWidget(self._banner_text, 1)
        row.addWidget(self.demo_button)
        self.banner.setVisible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.resize(1180, 760)
        self.restoreGeometry(settings.geometry)
        self.restoreState(settings.window_state)
        self.tabs.setCurrentIndex(min(settings.page, self.tabs.count() - 1))

        self.demo_button.clicked.connect(self._on_demo_clicked)
        for page in (self.verify_page, self.enrol_page, self.inspect_page):
            page.status.connect(self.statusBar().showMessage)

    @property
    def workspace(self) -> Workspace | None:
        """The open ledger and key, once `start` has opened them."""
        return self._workspace

    def start(self) -> None:
        """Open (on first run: make) the local ledger and key, in the thread pool."""
        from app.jobs import open_workspace

        self.statusBar().showMessage(f"Opening the local ledger in {self._places.ledger}…")
        task = Task(partial(open_workspace, self._places))
        task.signals.done.connect(self._on_workspace_opened)
        task.signals.failed.connect(self._on_workspace_failed)
        self._pool.start(task)

    @Slot(object)
    def _on_workspace_opened(self, workspace: Workspace) -> None:
        self._workspace = workspace
        for page in (self.verify_page, self.enrol_page, self.inspect_page):
            page.set_workspace(workspace)
        self.statusBar().showMessage(
            f"Ledger {workspace.places.ledger} · key {workspace.key.key.reference}"
        )
        if workspace.first_run:
            self._banner_text.setText(
                "Welcome. A local ledger and a manufacturer key were made in "
                f"{workspace.places.ledger.parent}. Add a few synthetic demo items to try "
                "enrolling and verifying."
            )
            self.banner.setVisible(True)

    @Slot(object)
    def _on_workspace_failed(self, error: Exception) -> None:
        self.statusBar().showMessage(f"Cannot open the local ledger: {error}")

    @Slot()
    def _on_demo_clicked(self) -> None:
        self.banner.setVisible(False)
        self.tabs.setCurrentWidget(self.enrol_page)
        self.enrol_page.add_demo_items()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._settings.geometry = self.saveGeometry()
        self._settings.window_state = self.saveState()
        self._settings.page = self.tabs.currentIndex()
        self._settings.sync()
        self.verify_page.shutdown(SHUTDOWN_WAIT_MS / 1000)
        self.enrol_page.cancel()
        self._pool.waitForDone(SHUTDOWN_WAIT_MS)
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None
        super().closeEvent(event)


def run(argv: Sequence[str]) -> int:
    """Start the desktop app; returns its exit status."""
    os.environ.setdefault(
        "NUMBA_CACHE_DIR", str(platformdirs.user_cache_path(APPLICATION) / "numba")
    )
    from app.jobs import Places

    app = QApplication(list(argv))
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    window = MainWindow(Places.default(), QThreadPool.globalInstance(), Settings.open())
    window.show()
    window.start()
    return app.exec()
