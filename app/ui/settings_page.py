"""Settings: keys, the registry to browse, the trust policy, the camera, the thresholds.

Everything is remembered with `app.settings.Settings` (``QSettings``). Key chores run in
the thread pool (`app.flows.key_admin`); a rotation is logged in the local ledger. The
verdict thresholds are read-only until **Unlock** is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.flows import key_admin, keys
from app.jobs import Workspace
from app.settings import Settings, Thresholds
from app.tasks import Task


class SettingsPage(QWidget):
    """Keys, registry and policy, camera and thresholds, each in its own box."""

    status = Signal(str)
    keys_changed = Signal()
    """A key was made, imported or rotated: the workspace should be reopened."""
    registry_changed = Signal()
    """The registry or the policy file changed in `Settings`."""
    camera_changed = Signal()
    """Another camera was chosen in `Settings`."""
    thresholds_changed = Signal()
    """New verdict thresholds were saved in `Settings`."""

    def __init__(
        self, pool: QThreadPool, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._pool = pool
        self._settings = settings
        self._workspace: Workspace | None = None
        self._key_files: list[keys.KeyFiles] = []
        self._verb = ""

        self.keys = QTreeWidget()
        self.keys.setHeaderLabels(["Key", "Private key", "File"])
        self.keys.setRootIsDecorated(False)
        self.keys.setColumnWidth(0, 300)
        self._new = QPushButton("&New key…")
        self._import = QPushButton("&Import…")
        self._export = QPushButton("E&xport public key…")
        self._rotate = QPushButton("Ro&tate…")
        self.registry = QLineEdit(settings.registry)
        self.registry.setPlaceholderText("the local ledger")
        self.policy = QLineEdit(str(settings.policy_file or ""))
        self.policy.setPlaceholderText("the ledger folder's own policy")
        self._browse_registry = QPushButton("Br&owse…")
        self._browse_policy = QPushButton("&Policy file…")
        self._apply = QPushButton("Use this re&gistry")
        self.camera = QComboBox()
        self.genuine_at = _threshold_box()
        self.counterfeit_below = _threshold_box()
        self.unlock_button = QPushButton("&Unlock…")
        self.save_thresholds = QPushButton("&Save thresholds")
        self.reset_thresholds = QPushButton("&Reset to fitted values")

        key_box = QGroupBox("Keys (manufacturer keys sign records; the local ledger trusts them)")
        key_layout = QVBoxLayout(key_box)
        key_layout.addWidget(self.keys)
        key_layout.addLayout(_row(self._new, self._import, self._export, self._rotate))
        registry_box = QGroupBox("Registry and trust policy (the Ledger page browses this)")
        form = QFormLayout(registry_box)
        form.addRow("Ledger folder or URL:", _row(self.registry, self._browse_registry))
        form.addRow("Trust policy file:", _row(self.policy, self._browse_policy))
        form.addRow("", _row(self._apply))
        camera_box = QGroupBox("Camera")
        QFormLayout(camera_box).addRow("Camera for live capture:", self.camera)
        threshold_box = QGroupBox("Verdict thresholds (score in log-odds)")
        thresholds = QFormLayout(threshold_box)
        thresholds.addRow("Genuine at or above:", self.genuine_at)
        thresholds.addRow("Counterfeit below:", self.counterfeit_below)
        thresholds.addRow("", _row(self.unlock_button, self.save_thresholds, self.reset_thresholds))
        note = QLabel(
            "Fitted on the training set (fingerprint/params.py). Lowering 'genuine at' "
            "accepts more copies as genuine; raising 'counterfeit below' calls more genuine "
            "items counterfeit."
        )
        note.setWordWrap(True)
        thresholds.addRow(note)

        body = QWidget()
        column = QVBoxLayout(body)
        for box in (key_box, registry_box, camera_box, threshold_box):
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        QVBoxLayout(self).addWidget(scroll)

        self._new.clicked.connect(self._on_new_clicked)
        self._import.clicked.connect(self._on_import_clicked)
        self._export.clicked.connect(self._on_export_clicked)
        self._rotate.clicked.connect(self._on_rotate_clicked)
        self._browse_registry.clicked.connect(self._on_browse_registry)
        self._browse_policy.clicked.connect(self._on_browse_policy)
        self._apply.clicked.connect(self.apply_registry)
        self.camera.currentIndexChanged.connect(self._on_camera_chosen)
        self.unlock_button.clicked.connect(self._on_unlock_clicked)
        self.save_thresholds.clicked.connect(self.store_thresholds)
        self.reset_thresholds.clicked.connect(self._on_reset_thresholds)
        self.keys.itemSelectionChanged.connect(self._update_buttons)
        self._show_thresholds(settings.thresholds)
        self.lock_thresholds()
        self._update_buttons()

    def set_workspace(self, workspace: Workspace) -> None:
        """Manage ``workspace``'s key folder; rotations are logged in its ledger."""
        self._workspace = workspace
        self.registry.setPlaceholderText(f"the local ledger, {workspace.places.ledger}")
        self.list_keys()

    def list_cameras(self) -> None:
        """Fill the camera menu (loads QtMultimedia, so not at start-up)."""
        from app.capture.camera import list_cameras

        self.camera.blockSignals(True)
        self.camera.clear()
        self.camera.addItem("Default camera", "")
        for info in list_cameras():
            self.camera.addItem(info.description, info.id)
        chosen = self.camera.findData(self._settings.camera)
        self.camera.setCurrentIndex(max(chosen, 0))
        self.camera.blockSignals(False)

    # -- keys -------------------------------------------------------------------

    def list_keys(self) -> None:
        """Show the keys in the key folder."""
        if self._workspace is None:
            return
        self._key_files = keys.list_keys(self._workspace.places.keys)
        self.keys.clear()
        in_use = self._workspace.key.key
        for files in self._key_files:
            private = "yes" if files.skey_path.exists() else "no (public only)"
            name = files.key.reference + ("  — signs enrolments" if files.key == in_use else "")
            self.keys.addTopLevelItem(QTreeWidgetItem([name, private, str(files.vkey_path)]))
        self._update_buttons()

    def selected_key(self) -> keys.KeyFiles | None:
        """The key selected in the list."""
        rows = [self.keys.indexOfTopLevelItem(item) for item in self.keys.selectedItems()]
        return self._key_files[rows[0]] if rows else None

    def create_key(self, name: str) -> None:
        """Make a manufacturer key ``name`` in the key folder."""
        if self._workspace is not None:
            self._run(partial(keys.new_key, name, self._workspace.places.keys), "made")

    def import_key_file(self, path: Path) -> None:
        """Copy the skey or vkey in ``path`` into the key folder."""
        if self._workspace is not None:
            self._run(partial(key_admin.import_key, path, self._workspace.places.keys), "imported")

    def export_public_key(self, path: Path) -> None:
        """Write the selected key's vkey to ``path``."""
        key = self.selected_key()
        if key is not None:
            key_admin.export_public_key(key, path)
            self.status.emit(f"Public key {key.key.reference} written to {path}")

    def rotate_selected(self) -> None:
        """Replace the selected key by a new one, logging the rotation in the ledger."""
        key = self.selected_key()
        if key is not None and self._workspace is not None:
            self._run(partial(key_admin.rotate_key, key, self._workspace.registry), "rotated")

    def _run(self, call: Callable[[], object], verb: str) -> None:
        task = Task(call)
        task.signals.done.connect(self._on_key_done)
        task.signals.failed.connect(self._on_key_failed)
        self._verb = verb
        self._pool.start(task)

    @Slot(object)
    def _on_key_done(self, result: object) -> None:
        made = result[0] if isinstance(result, tuple) else result
        assert isinstance(made, keys.KeyFiles)
        self.status.emit(f"Key {made.key.reference} {self._verb}")
        self.list_keys()
        self.keys_changed.emit()

    @Slot(object)
    def _on_key_failed(self, error: Exception) -> None:
        self.status.emit(f"Key not {self._verb}: {error}")

    @Slot()
    def _on_new_clicked(self) -> None:
        name, ok = QInputDialog.getText(self, "New key", "Key name (no spaces or '+'):")
        if ok and name.strip():
            self.create_key(name.strip())

    @Slot()
    def _on_import_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a key", "", "Keys (*.skey *.vkey)")
        if path:
            self.import_key_file(Path(path))

    @Slot()
    def _on_export_clicked(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export public key", f"{key.key.name}.vkey", "Public keys (*.vkey)"
        )
        if path:
            self.export_public_key(Path(path))

    @Slot()
    def _on_rotate_clicked(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        answer = QMessageBox.question(
            self,
            "Rotate key",
            f"Make a new key to replace {key.key.reference}? The rotation is logged in the "
            "local ledger and the old private key is set aside; records it signed stay valid.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.rotate_selected()

    # -- registry, camera -------------------------------------------------------

    @Slot()
    def apply_registry(self) -> None:
        """Remember the registry and policy typed in; the Ledger page opens them."""
        self._settings.registry = self.registry.text().strip()
        policy = self.policy.text().strip()
        self._settings.policy_file = Path(policy) if policy else None
        self._settings.sync()
        self.registry_changed.emit()

    @Slot()
    def _on_browse_registry(self) -> None:
        if folder := QFileDialog.getExistingDirectory(self, "Ledger folder"):
            self.registry.setText(folder)

    @Slot()
    def _on_browse_policy(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Trust policy file")
        if path:
            self.policy.setText(path)

    @Slot(int)
    def _on_camera_chosen(self, index: int) -> None:
        self._settings.camera = str(self.camera.itemData(index) or "")
        self.camera_changed.emit()

    # -- thresholds -------------------------------------------------------------

    def lock_thresholds(self) -> None:
        """Show the thresholds read-only."""
        self._set_thresholds_editable(False)

    def unlock_thresholds(self) -> None:
        """Let the thresholds be edited (after the user confirmed)."""
        self._set_thresholds_editable(True)

    @Slot()
    def store_thresholds(self) -> None:
        """Remember the thresholds shown, then lock them again."""
        try:
            chosen = Thresholds(
                genuine_at=self.genuine_at.value(), counterfeit_below=self.counterfeit_below.value()
            )
        except ValueError as exc:
            self.status.emit(f"Thresholds not saved: {exc}")
            return
        self._settings.thresholds = chosen
        self._settings.sync()
        self.lock_thresholds()
        self.thresholds_changed.emit()
        self.status.emit(
            f"Thresholds saved: genuine at {chosen.genuine_at:g}, "
            f"counterfeit below {chosen.counterfeit_below:g}"
        )

    @Slot()
    def _on_unlock_clicked(self) -> None:
        answer = QMessageBox.warning(
            self,
            "Unlock thresholds",
            "The thresholds were fitted on measured data. Lowering 'genuine at' accepts "
            "more copies as genuine. Unlock them for editing?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.unlock_thresholds()

    @Slot()
    def _on_reset_thresholds(self) -> None:
        self._show_thresholds(Thresholds.fitted())
        self.store_thresholds()

    def _show_thresholds(self, thresholds: Thresholds) -> None:
        self.genuine_at.setValue(thresholds.genuine_at)
        self.counterfeit_below.setValue(thresholds.counterfeit_below)

    def _set_thresholds_editable(self, editable: bool) -> None:
        for box in (self.genuine_at, self.counterfeit_below):
            box.setReadOnly(not editable)
            box.setButtonSymbols(
                QDoubleSpinBox.ButtonSymbols.UpDownArrows
                if editable
                else QDoubleSpinBox.ButtonSymbols.NoButtons
            )
        self.unlock_button.setEnabled(not editable)
        self.save_thresholds.setEnabled(editable)
        self.reset_thresholds.setEnabled(editable)

    def _update_buttons(self) -> None:
        ready = self._workspace is not None
        chosen = self.selected_key()
        self._new.setEnabled(ready)
        self._import.setEnabled(ready)
        self._export.setEnabled(chosen is not None)
        self._rotate.setEnabled(ready and chosen is not None and chosen.skey_path.exists())


def _threshold_box() -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(-50.0, 50.0)
    box.setDecimals(2)
    box.setSingleStep(0.1)
    return box


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget, 1 if isinstance(widget, QLineEdit) else 0)
    if not any(isinstance(widget, QLineEdit) for widget in widgets):
        row.addStretch(1)
    return row
