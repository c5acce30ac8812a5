"""A verification result in full: verdict, score, guidance, evidence and provenance."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from app.flows.verify import Verification
from app.ui import present
from app.ui.widgets.verdict import Look, ScoreScale, VerdictBadge


class _Rows(QGroupBox):
    """A titled form of ``(label, text)`` rows, replaced as a whole."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._form = QFormLayout(self)
        self._form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

    def set_rows(self, rows: present.Rows) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        for label, text in rows:
            value = QLabel(text)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self._form.addRow(f"{label}:", value)
        self.setVisible(bool(rows))


class VerificationView(QWidget):
    """Shows one `Verification`, a check in progress, or why a check failed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.badge = VerdictBadge()
        self.scale = ScoreScale()
        self._score = QLabel()
        self._guidance = QLabel()
        self._guidance.setWordWrap(True)
        self._evidence = _Rows("Evidence")
        self._provenance = _Rows("Provenance")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.badge, self.scale, self._score, self._guidance):
            layout.addWidget(widget)
        layout.addWidget(self._evidence)
        layout.addWidget(self._provenance)
        layout.addStretch(1)
        self.clear()

    def clear(self) -> None:
        """No verdict."""
        self._show(Look.IDLE, "Open or capture an item, then press Verify", None)

    def show_busy(self) -> None:
        """A check is running."""
        self._show(Look.BUSY, "Fingerprinting and checking the ledger…", None)

    def show_error(self, error: Exception) -> None:
        """The check could not run: ``error`` says why."""
        self._show(Look.ERROR, str(error), None)

    def show_verification(self, verification: Verification) -> None:
        """The verdict and everything behind it."""
        self._show(Look.of(verification.outcome), f"Serial {verification.serial}", verification)

    def guidance(self) -> str:
        """The retake or override text shown."""
        return self._guidance.text()

    def _show(self, look: Look, detail: str, verification: Verification | None) -> None:
        self.badge.show_look(look, detail)
        match = verification.match if verification else None
        proven = verification.proven if verification else None
        self.scale.set_score(match.score if match else None)
        self.scale.setVisible(match is not None)
        self._score.setText(self.scale.describe() if match else "")
        self._guidance.setText(present.guidance(verification) if verification else "")
        self._evidence.set_rows(present.evidence_rows(match) if match else [])
        self._provenance.set_rows(present.provenance_rows(proven) if proven else [])
