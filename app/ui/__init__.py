"""The desktop app's widgets: a main window composing one page per mode."""

from __future__ import annotations

import sys
import time
from pathlib import Path

SCREENSHOT_TIMEOUT_S = 60.0


def screenshot(path: Path, timeout_s: float = SCREENSHOT_TIMEOUT_S) -> int:
    """Start the app as ``hallmark gui`` does, save the main window as ``path`` once its
    ledger is open, and quit: checks a bundle without a screen (``packaging/ci.sh``).

    Returns 0, or 1 if the ledger did not open within ``timeout_s`` or the picture could
    not be saved (a picture is saved either way, when possible).
    """
    from PySide6.QtCore import QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from app.jobs import Places
    from app.settings import APPLICATION, ORGANIZATION, Settings
    from app.ui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    window = MainWindow(Places.default(), QThreadPool.globalInstance(), Settings.open())
    window.show()
    window.start()
    deadline = time.monotonic() + timeout_s
    timer = QTimer(interval=50)

    def grab_when_ready() -> None:
        if window.workspace is None and time.monotonic() < deadline:
            return
        timer.stop()
        ready = window.workspace is not None
        saved = window.grab().save(str(path))
        if not ready:
            print(f"hallmark: error: the ledger did not open in {timeout_s:.0f} s", file=sys.stderr)
        if not saved:
            print(f"hallmark: error: cannot save the screenshot as {path}", file=sys.stderr)
        window.close()
        app.exit(0 if ready and saved else 1)

    timer.timeout.connect(grab_when_ready)
    timer.start()
    return app.exec()
