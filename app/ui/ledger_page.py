"""Ledger: browse the registry's entries, search them, open an item, check the log.

The table (`LedgerModel`) reads pages lazily in the thread pool. Opening an item looks
it up through the registry, which proves the record and its events. **Check log**
verifies the newest checkpoint's consistency with the last one seen; **Full audit**
also recomputes every tile and the root, as ``hallmark log verify`` does.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

from PySide6.QtCore import QItemSelection, QThreadPool, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.flows.ledger_browse import (
    LogCheck,
    LogView,
    Row,
    SearchStep,
    check_log,
    open_view,
    search,
    size,
    view_of,
)
from app.jobs import Workspace
from app.tasks import Task
from app.ui import present
from app.ui.ledger_model import LedgerModel
from registry_client.registry import VerifiedRecord


class LedgerPage(QWidget):
    """The entries table, a search box, the opened item's provenance and the log check."""

    status = Signal(str)
    item_shown = Signal(object)
    """Emitted with the `VerifiedRecord` of an opened item."""
    checked = Signal(object)
    """Emitted with the `LogCheck` of a passed check, or the exception of a failed one."""

    def __init__(self, pool: QThreadPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._view: LogView | None = None
        self._owned: list[LogView] = []
        """The views `browse` opened: tasks may still read one replaced, so all are
        closed by `close_view`, once the pool is idle."""
        self._target = ""
        self._cancel_search = threading.Event()
        self._found: list[int] = []
        self._waiting_row: int | None = None
        """The selected table row whose entry is not shown yet."""
        self.model = LedgerModel(pool, self)

        self._where = QLabel("No registry open yet.")
        self._where.setWordWrap(True)
        self._refresh = QPushButton("&Refresh")
        self._query = QLineEdit()
        self._query.setPlaceholderText("serial, GTIN or (01)GTIN(21)serial")
        search_label = QLabel("&Search:")
        search_label.setBuddy(self._query)
        self._search = QPushButton("&Find")
        self._clear = QPushButton("Show &all")
        self._search_bar = QProgressBar()
        self._search_bar.setVisible(False)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((70, 90, 130, 110, 150, 200)):
            self.table.setColumnWidth(column, width)
        self._detail = QGroupBox("Entry")
        self._form = QFormLayout(self._detail)
        self._check = QPushButton("&Check log")
        self._audit = QPushButton("F&ull audit")
        self._check_bar = QProgressBar()
        self._check_bar.setRange(0, 0)
        self._check_bar.setVisible(False)
        self.check_result = QLabel(
            "Check log: is the newest checkpoint consistent with the last one seen here?"
        )
        self.check_result.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self._where, 1)
        top.addWidget(self._refresh)
        find = QHBoxLayout()
        for widget in (search_label, self._query, self._search, self._clear, self._search_bar):
            find.addWidget(widget)
        split = QSplitter()
        split.addWidget(self.table)
        detail = QWidget()
        detail.setMinimumWidth(340)
        right = QVBoxLayout(detail)
        right.addWidget(self._detail)
        right.addStretch(1)
        split.addWidget(detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        check = QHBoxLayout()
        for widget in (self._check, self._audit, self._check_bar):
            check.addWidget(widget)
        check.addWidget(self.check_result, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(find)
        layout.addWidget(split, 1)
        layout.addLayout(check)
        self._show_rows([("", "Select an entry to see what it says and prove it.")])

        self._refresh.clicked.connect(self.refresh)
        self._search.clicked.connect(self.start_search)
        self._query.returnPressed.connect(self.start_search)
        self._clear.clicked.connect(self.clear_search)
        self._check.clicked.connect(self.check_log)
        self._audit.clicked.connect(self.full_audit)
        self.table.selectionModel().selectionChanged.connect(self._on_selected)
        self.model.page_failed.connect(self._on_page_failed)
        self.model.dataChanged.connect(self._show_selected)
        self.model.modelReset.connect(self._forget_selection)
        self._update_buttons()

    def browse(self, target: str, policy_file: Path | None, workspace: Workspace) -> None:
        """Browse ``target`` (a ledger folder or URL, opened in the thread pool), or the
        workspace's local ledger when ``target`` is empty."""
        self._target = target
        if not target:
            registry = workspace.registry
            name = f"local ledger {registry.ledger.path}"
            self.set_view(view_of(registry, workspace.places.state, name=name))
            return
        task = Task(partial(open_view, target, policy_file, workspace.places.state))
        task.signals.done.connect(self._on_opened)
        task.signals.failed.connect(self._on_open_failed)
        self._pool.start(task)

    def set_view(self, view: LogView) -> None:
        """Browse ``view`` from now on; the caller owns it (see `browse`)."""
        self.cancel()
        self._view = view
        self._where.setText(f"Registry: {view.name}")
        self.model.reset(None, 0)
        self.refresh()

    def close_view(self) -> None:
        """Close the registries this page opened (`browse` with a target), the one shown
        and those replaced; call once no task of the page runs (the window's close)."""
        for view in self._owned:
            view.close()
        self._owned = []

    @Slot(object)
    def _on_opened(self, view: LogView) -> None:
        if view.name != self._target:  # another registry was chosen meanwhile
            view.close()
            return
        self.set_view(view)
        self._owned.append(view)

    @Slot(object)
    def _on_open_failed(self, error: Exception) -> None:
        self.status.emit(f"Cannot open the registry {self._target}: {error}")

    @property
    def view(self) -> LogView | None:
        """The registry browsed."""
        return self._view

    def cancel(self) -> None:
        """Stop a running search after its current page."""
        self._cancel_search.set()

    @Slot()
    def refresh(self) -> None:
        """Read the newest tree size and show the entries afresh."""
        if self._view is None:
            return
        task = Task(partial(size, self._view))
        task.signals.done.connect(self._on_size)
        task.signals.failed.connect(self._on_failed)
        self._pool.start(task)

    @Slot()
    def start_search(self) -> None:
        """Scan the log for the query's items in the thread pool, with progress."""
        if self._view is None or not self._query.text().strip():
            return
        self.cancel()
        self._cancel_search = threading.Event()
        self._found = []
        self.model.set_filter(self._found)
        self._search_bar.setRange(0, max(self.model.size, 1))
        self._search_bar.setValue(0)
        self._search_bar.setVisible(True)
        task = Task.steps(partial(search, self._view, self._query.text(), self._cancel_search))
        task.signals.step.connect(self._on_search_step)
        task.signals.done.connect(self._on_search_done)
        task.signals.failed.connect(self._on_search_failed)
        self._pool.start(task)

    @Slot()
    def clear_search(self) -> None:
        """Show every entry again."""
        self.cancel()
        self._search_bar.setVisible(False)
        self.model.set_filter(None)

    @Slot()
    def check_log(self) -> None:
        """Check the newest checkpoint against the last one seen, in the thread pool."""
        self._run_check(full=False)

    @Slot()
    def full_audit(self) -> None:
        """Check as `check_log`, then recompute every tile and the root from the entries."""
        self._run_check(full=True)

    def _run_check(self, *, full: bool) -> None:
        if self._view is None:
            return
        self._check_bar.setVisible(True)
        self._check.setEnabled(False)
        self._audit.setEnabled(False)
        what = "Auditing every tile" if full else "Checking the newest checkpoint"
        self.check_result.setText(f"{what}…")
        task = Task(partial(check_log, self._view, full=full))
        task.signals.done.connect(self._on_checked)
        task.signals.failed.connect(self._on_check_failed)
        self._pool.start(task)

    @Slot(object)
    def _on_size(self, tree_size: int) -> None:
        self.model.reset(self._view, tree_size)
        self.status.emit(f"{self._where.text()} · {tree_size} entries")

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self.status.emit(f"Ledger: {type(error).__name__}: {error}")

    @Slot(object)
    def _on_page_failed(self, error: Exception) -> None:
        self.status.emit(f"Ledger: entries unreadable: {error}")

    @Slot(object)
    def _on_search_step(self, step: SearchStep) -> None:
        self._search_bar.setRange(0, max(step.total, 1))
        self._search_bar.setValue(step.scanned)
        if step.found:
            self._found.extend(step.found)
            self.model.set_filter(self._found)

    @Slot(object)
    def _on_search_done(self, _steps: int) -> None:
        self._search_bar.setVisible(False)
        self.status.emit(f"{len(self._found)} entries match {self._query.text().strip()!r}")

    @Slot(object)
    def _on_search_failed(self, error: Exception) -> None:
        self._search_bar.setVisible(False)
        self.status.emit(f"Search: {error}")

    @Slot(QItemSelection, QItemSelection)
    def _on_selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        self._waiting_row = indexes[0].row() if indexes else None
        self._show_selected()

    @Slot()
    def _show_selected(self) -> None:
        """Show the selected entry, once its page is read, and prove its item."""
        if self._waiting_row is None or self._view is None:
            return
        row = self.model.row_at(self._waiting_row)
        if row is None:  # asked for: the model's dataChanged calls back
            self._show_rows([("Leaf", str(self.model.leaf_at(self._waiting_row))), ("", "…")])
            return
        self._waiting_row = None
        self._show_rows(_claims(row))
        if row.item is not None:
            task = Task(partial(self._view.registry.lookup, row.item))
            task.signals.done.connect(self._on_item)
            task.signals.failed.connect(self._on_item_failed)
            self._pool.start(task)

    @Slot()
    def _forget_selection(self) -> None:
        self._waiting_row = None

    @Slot(object)
    def _on_item(self, proven: VerifiedRecord) -> None:
        self._show_rows(
            [("Proof", "verified: record and events"), *present.provenance_rows(proven)]
        )
        self.item_shown.emit(proven)

    @Slot(object)
    def _on_item_failed(self, error: Exception) -> None:
        self._form.addRow("Proof:", _value(f"FAILED — {type(error).__name__}: {error}"))

    @Slot(object)
    def _on_checked(self, check: LogCheck) -> None:
        self._check_done()
        self.check_result.setText(_check_text(check))
        self.checked.emit(check)

    @Slot(object)
    def _on_check_failed(self, error: Exception) -> None:
        self._check_done()
        self.check_result.setText(f"FAILED — {type(error).__name__}: {error}")
        self.checked.emit(error)

    def _check_done(self) -> None:
        self._check_bar.setVisible(False)
        self._update_buttons()

    def _show_rows(self, rows: list[tuple[str, str]]) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        for label, text in rows:
            self._form.addRow(f"{label}:" if label else "", _value(text))

    def _update_buttons(self) -> None:
        ready = self._view is not None
        for button in (self._refresh, self._search, self._clear, self._check, self._audit):
            button.setEnabled(ready)


def _value(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def _claims(row: Row) -> list[tuple[str, str]]:
    """What the entry says, before it is proven."""
    item = row.item
    return [
        ("Leaf", str(row.leaf)),
        ("Type", row.kind.value),
        ("Item", f"GTIN {item.gtin}, serial {item.serial}" if item else "—"),
        ("Time", row.time.strftime("%Y-%m-%d %H:%M UTC") if row.time else "—"),
        ("Signed by", row.signer or "—"),
        ("Says", row.detail or "—"),
        ("Proof", "looking up…" if item else "a key event; audit the log to check it"),
    ]


def _check_text(check: LogCheck) -> str:
    cp, before = check.current, check.previous
    lines = [f"OK — checkpoint {cp.origin}, size {cp.size}, root {cp.root_hash.hex()[:16]}…"]
    if before is None:
        lines.append("First checkpoint seen of this log here: remembered from now on.")
    elif before.size == cp.size:
        lines.append(f"Same as the last one seen (size {before.size}).")
    else:
        lines.append(f"Consistent with the last one seen (size {before.size}): proof checked.")
    if check.audit is not None:
        a = check.audit
        lines.append(
            f"Full audit passed: {a.leaves} entries, {a.bundles} entry bundles, "
            f"{a.tiles} tiles, {a.blobs} blobs recomputed."
        )
    return "\n".join(lines)
