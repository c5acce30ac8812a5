"""A verification result in full: verdict, score, guidance, evidence, provenance, history."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from app.flows.explain import Explained
from app.ui import present
from app.ui.widgets.evidence import EvidenceView
from app.ui.widgets.verdict import AMBER, Look, ScoreScale, VerdictBadge


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
    """Shows one `Explained` verification, a check in progress, or why a check failed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.badge = VerdictBadge()
        self.scale = ScoreScale()
        self._score = QLabel()
        self._guidance = QLabel()
        self._guidance.setWordWrap(True)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(
            f"QLabel {{ background: {AMBER.name()}; color: black; padding: 6px; "
            "border-radius: 4px; font-weight: bold; }"
        )
        self.warnings.setAccessibleName("Scan history warnings")
        self._pictures = QGroupBox("Evidence: matched keypoints")
        self.evidence_view = EvidenceView()
        QVBoxLayout(self._pictures).addWidget(self.evidence_view)
        self._evidence = _Rows("Evidence")
        self._provenance = _Rows("Provenance")
        self._history = _Rows("Scan history of this item")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.badge, self.scale, self._score, self._guidance, self.warnings):
            layout.addWidget(widget)
        for group in (self._pictures, self._evidence, self._provenance, self._history):
            layout.addWidget(group)
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

    def show_unreadable(self, instructions: tuple[str, ...]) -> None:
        """The capture cannot be checked as it is: no code was read."""
        self._show(Look.RETAKE, "No code read: the item cannot be looked up", None)
        self._guidance.setText("\n".join(f"• {line}" for line in instructions))

    def show_verification(self, explained: Explained) -> None:
        """The verdict and everything behind it."""
        verification = explained.verification
        self._show(Look.of(verification.outcome), f"Serial {verification.serial}", explained)

    def guidance(self) -> str:
        """The retake or override text shown."""
        return self._guidance.text()

    def _show(self, look: Look, detail: str, explained: Explained | None) -> None:
        self.badge.show_look(look, detail)
        verification = explained.verification if explained else None
        match = verification.match if verification else None
        proven = verification.proven if verification else None
        self.scale.set_score(match.score if match else None)
        self.scale.setVisible(match is not None)
        self._score.setText(self.scale.describe() if match else "")
        self._guidance.setText(present.guidance(verification) if verification else "")
        warnings = explained.warnings if explained else ()
        self.warnings.setText(present.warning_lines(warnings))
        self.warnings.setVisible(bool(warnings))
        picture = explained.picture if explained else None
        self.evidence_view.set_picture(picture)
        self._pictures.setVisible(picture is not None)
        judgement = verification.judgement if verification else None
        if match is not None:
            self._evidence.set_rows(present.evidence_rows(match))
        else:
            self._evidence.set_rows(present.judgement_rows(judgement) if judgement else [])
        self._provenance.set_rows(present.provenance_rows(proven) if proven else [])
        self._history.set_rows(present.history_rows(explained.history) if explained else [])
