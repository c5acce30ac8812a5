"""The main window: composes the six mode pages, the menus and the status line.

`run` is the desktop app's entry point (``hallmark gui``). The window opens the local
ledger in the thread pool, making it and the keys on first run, offers demo items,
and warms the fingerprint engine's Numba kernels in the background (`app.selftest`),
saying so in the status line. Ctrl+1 … Ctrl+6 switch modes; Ctrl+E exports a
certificate of the last verification; size, position and page are remembered.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QThreadPool, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
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
from app.ui.certificate_export import CertificateExport
from app.ui.enrol_page import EnrolPage
from app.ui.hologram_page import HologramPage
from app.ui.inspect_page import InspectPage
from app.ui.ledger_page import LedgerPage
from app.ui.refcounts import pin_singletons
from app.ui.settings_page import SettingsPage
from app.ui.ui_thread_gc import UiThreadCollector
from app.ui.verify_page import VerifyPage

if TYPE_CHECKING:
    from app.jobs import Places, Workspace
    from app.selftest import SelfTestReport

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 10_000
SCREENSHOT_TIMEOUT_S = 60.0


class MainWindow(QMainWindow):
    """Tabs for the six modes, menus, a first-run banner and the status line."""

    def __init__(
        self, places: Places, pool: QThreadPool, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._places = places
        self._pool = pool
        self._settings = settings
        self._workspace: Workspace | None = None
        self._retired: list[Workspace] = []
        self.setWindowTitle("Hallmark")
        self.verify_page = VerifyPage(pool)
        self.enrol_page = EnrolPage(pool)
        self.inspect_page = InspectPage(pool)
        self.ledger_page = LedgerPage(pool)
        self.settings_page = SettingsPage(pool, settings)
        self.hologram_page = HologramPage(pool)
        self.pages = (
            self.verify_page,
            self.enrol_page,
            self.inspect_page,
            self.ledger_page,
            self.settings_page,
            self.hologram_page,
        )
        self.capture_pages = (
            self.verify_page,
            self.enrol_page,
            self.inspect_page,
            self.hologram_page,
        )
        self.certificate = CertificateExport(pool, self)
        self.warm_up_label = QLabel()
        self.tabs = QTabWidget()
        names = ("Verify", "Enrol", "Inspect offline", "Ledger", "Settings", "Hologram")
        for number, (page, name) in enumerate(zip(self.pages, names, strict=True), start=1):
            self.tabs.addTab(page, f"&{number} {name}")
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
        self._make_menus(names)
        self.resize(1180, 760)
        self.restoreGeometry(settings.geometry)
        self.restoreState(settings.window_state)
        self.tabs.setCurrentIndex(min(settings.page, self.tabs.count() - 1))

        self.demo_button.clicked.connect(self._on_demo_clicked)
        for source in (*self.pages, self.certificate):
            source.status.connect(self.statusBar().showMessage)
        self.verify_page.verified.connect(self.certificate.remember)
        self.inspect_page.verified.connect(self.certificate.remember)
        self.settings_page.keys_changed.connect(self.start)
        self.settings_page.registry_changed.connect(self._open_registry)
        self.settings_page.thresholds_changed.connect(self._apply_thresholds)
        self.settings_page.camera_changed.connect(self._apply_camera)
        self.verify_page.place.setText(settings.place)
        self._apply_camera()

    def _make_menus(self, names: Sequence[str]) -> None:
        # Menu mnemonics chosen not to clash with the pages' (Alt+F, Alt+V are taken).
        app_menu = self.menuBar().addMenu("&Hallmark")
        app_menu.addAction(self.certificate.action)
        about = app_menu.addAction("&About Hallmark")
        about.setShortcut(QKeySequence("F1"))
        about.triggered.connect(self.show_about)
        app_menu.addSeparator()
        quit_action = app_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        mode_menu = self.menuBar().addMenu("&Mode")
        for number, name in enumerate(names):
            action = QAction(name, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number + 1}"))
            action.triggered.connect(partial(self.tabs.setCurrentIndex, number))
            mode_menu.addAction(action)

    @property
    def workspace(self) -> Workspace | None:
        """The open ledger and keys, once `start` has opened them."""
        return self._workspace

    @Slot()
    def start(self) -> None:
        """Open (on first run: make) the local ledger and keys, and warm the engine."""
        from app.jobs import open_workspace
        from app.selftest import run as warm_up

        self.statusBar().showMessage(f"Opening the local ledger in {self._places.ledger}…")
        task = Task(partial(open_workspace, self._places))
        task.signals.done.connect(self._on_workspace_opened)
        task.signals.failed.connect(self._on_workspace_failed)
        self._pool.start(task)
        if self._workspace is None:  # first start, not a reopen after a key change
            self.warm_up_label.setText("Compiling the fingerprint engine…")
            self.statusBar().addPermanentWidget(self.warm_up_label)
            warm = Task(warm_up)
            warm.signals.done.connect(self._on_warmed_up)
            warm.signals.failed.connect(self._on_warm_up_failed)
            self._pool.start(warm)

    @Slot()
    def show_about(self) -> None:
        """The About box, with the version."""
        from app.ui.about import show_about

        show_about(self)

    @Slot(object)
    def _on_workspace_opened(self, workspace: Workspace) -> None:
        if self._workspace is not None:
            self._retired.append(self._workspace)  # tasks may still use it: closed on exit
        self._workspace = workspace
        for user in (*self.pages[:3], self.settings_page, self.hologram_page, self.certificate):
            user.set_workspace(workspace)
        self._apply_thresholds()
        self.statusBar().showMessage(
            f"Ledger {workspace.places.ledger} · key {workspace.key.key.reference}"
        )
        self._open_registry()
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
    def _open_registry(self) -> None:
        """Browse the registry chosen in Settings, or the local ledger; Inspect syncs there."""
        self.inspect_page.set_sync_target(self._settings.registry, self._settings.policy_file)
        if self._workspace is not None:
            self.ledger_page.browse(
                self._settings.registry, self._settings.policy_file, self._workspace
            )

    @Slot()
    def _apply_camera(self) -> None:
        """Open the camera chosen in Settings on every page."""
        for page in self.capture_pages:
            page.capture.camera = self._settings.camera

    @Slot()
    def _apply_thresholds(self) -> None:
        """Verify with the thresholds saved in Settings (the fitted ones unless changed)."""
        thresholds = self._settings.thresholds
        self.verify_page.set_thresholds(thresholds)
        self.inspect_page.set_thresholds(thresholds)

    @Slot(object)
    def _on_warmed_up(self, report: SelfTestReport) -> None:
        self.warm_up_label.setText(f"Fingerprint engine ready ({report.seconds:.1f} s)")

    @Slot(object)
    def _on_warm_up_failed(self, error: Exception) -> None:
        self.warm_up_label.setText(f"Fingerprint engine self-test failed: {error}")

    @Slot()
    def _on_demo_clicked(self) -> None:
        self.banner.setVisible(False)
        self.tabs.setCurrentWidget(self.enrol_page)
        self.enrol_page.add_demo_items()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._settings.geometry = self.saveGeometry()
        self._settings.window_state = self.saveState()
        self._settings.page = self.tabs.currentIndex()
        self._settings.place = self.verify_page.place.text().strip()
        self._settings.sync()
        for page in self.capture_pages:
            page.shutdown(SHUTDOWN_WAIT_MS / 1000)
        self.enrol_page.cancel()
        self.ledger_page.cancel()
        if self._pool.waitForDone(SHUTDOWN_WAIT_MS):
            self.ledger_page.close_view()
            for opened in (self._workspace, *self._retired):
                if opened is not None:
                    opened.close()
        else:  # a task still writes: leave its ledger to the process's exit, not under it
            log.warning("tasks still running after %d ms; ledgers left open", SHUTDOWN_WAIT_MS)
        self._workspace, self._retired = None, []
        super().closeEvent(event)


def run(argv: Sequence[str], *, screenshot: Path | None = None) -> int:
    """Start the desktop app; returns its exit status.

    With ``screenshot``, save the main window there once its ledger is open and quit
    (how ``packaging/ci.sh`` checks a bundle without a screen): 1 if the ledger did not
    open within `SCREENSHOT_TIMEOUT_S` or the picture could not be saved.
    """
    from app.jobs import Places

    pin_singletons()
    app = QApplication(list(argv))
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    UiThreadCollector(app)  # no cyclic collection on pool threads: app/ui/ui_thread_gc.py
    window = MainWindow(Places.default(), QThreadPool.globalInstance(), Settings.open())
    window.show()
    window.start()
    if screenshot is not None:
        timer = QTimer(window, interval=50)
        deadline = time.monotonic() + SCREENSHOT_TIMEOUT_S
        timer.timeout.connect(partial(_grab_when_ready, window, screenshot, deadline, timer))
        timer.start()
    return app.exec()


def _grab_when_ready(window: MainWindow, path: Path, deadline: float, timer: QTimer) -> None:
    if window.workspace is None and time.monotonic() < deadline:
        return
    timer.stop()
    ready = window.workspace is not None
    saved = window.grab().save(str(path))
    if not ready:
        print(
            f"hallmark: error: the ledger did not open in {SCREENSHOT_TIMEOUT_S:.0f} s",
            file=sys.stderr,
        )
    if not saved:
        print(f"hallmark: error: cannot save the screenshot as {path}", file=sys.stderr)
    window.close()
    QApplication.exit(0 if ready and saved else 1)
