"""Export a verification certificate of the last item verified, as a signed PDF.

The Verify and Inspect pages report each `Verification`; the window's **Export
verification certificate** action (Ctrl+E) signs a certificate for the last one with
this computer's device key (`app.flows.certificate.issue`, in the thread pool) and
draws it (`app.ui.certificate_pdf`) where the user chooses.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QWidget

from app.flows.certificate import Certificate, issue
from app.flows.verify import Verification
from app.jobs import Workspace
from app.tasks import Task
from app.ui.certificate_pdf import write_pdf


class CertificateExport(QObject):
    """The action, the verification it would certify, and the export itself."""

    status = Signal(str)
    exported = Signal(object)
    """Emitted with the `Certificate` once its PDF is written."""

    def __init__(self, pool: QThreadPool, parent: QWidget) -> None:
        super().__init__(parent)
        self._pool = pool
        self._window = parent
        self._workspace: Workspace | None = None
        self._verification: Verification | None = None
        self._path: Path | None = None
        self.action = QAction("&Export verification certificate…", parent)
        self.action.setShortcut(QKeySequence("Ctrl+E"))
        self.action.setEnabled(False)
        self.action.triggered.connect(self._on_triggered)

    def set_workspace(self, workspace: Workspace) -> None:
        """Sign with ``workspace``'s device key."""
        self._workspace = workspace
        self._update()

    def remember(self, verification: Verification) -> None:
        """Offer a certificate for ``verification`` (if it matched a proven record and its
        event was logged)."""
        v = verification
        certifiable = v.proven is not None and v.match is not None and v.event is not None
        self._verification = verification if certifiable else None
        self._update()

    def export(self, path: Path) -> None:
        """Sign a certificate for the remembered verification and write it to ``path``."""
        if self._workspace is None or self._verification is None:
            return
        self._path = path
        task = Task(partial(issue, self._verification, device=self._workspace.device))
        task.signals.done.connect(self._on_issued)
        task.signals.failed.connect(self._on_failed)
        self._pool.start(task)

    @Slot()
    def _on_triggered(self) -> None:
        verification = self._verification
        if verification is None:
            return
        suggested = f"certificate-{verification.serial}.pdf"
        path, _ = QFileDialog.getSaveFileName(
            self._window, "Export verification certificate", suggested, "PDF (*.pdf)"
        )
        if path:
            self.export(Path(path))

    @Slot(object)
    def _on_issued(self, cert: Certificate) -> None:
        assert self._path is not None
        try:
            write_pdf(cert, self._path)
        except OSError as exc:
            self.status.emit(f"Certificate not written: {exc}")
            return
        self.status.emit(f"Certificate written to {self._path} (payload {cert.digest[:16]}…)")
        self.exported.emit(cert)

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self.status.emit(f"Certificate not issued: {error}")

    def _update(self) -> None:
        self.action.setEnabled(self._workspace is not None and self._verification is not None)
