"""The About box: what this is, its version, and the versions it runs on."""

from __future__ import annotations

import platform

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

import app


def about_text() -> str:
    """The box's rich text: name, version, purpose and the runtime's versions."""
    return (
        f"<h3>Hallmark {app.__version__}</h3>"
        "<p>Open product authentication: an item's surface fingerprint, registered on a "
        "verifiable append-only ledger, tells <i>genuine</i>, <i>counterfeit</i> or "
        "<i>retake</i> from a new photo.</p>"
        f"<p>Python {platform.python_version()} · Qt {qVersion()} · "
        f"PySide6 {pyside_version}</p>"
        "<p>Licence: Apache-2.0</p>"
    )


def show_about(parent: QWidget) -> None:
    """Show the About box (modal)."""
    QMessageBox.about(parent, "About Hallmark", about_text())
