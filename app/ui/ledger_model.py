"""A lazy table of log entries: pages of 256 rows read in the thread pool when first shown.

The model knows only the tree size until a view asks for a row; then the row's page is
read off the UI thread (`ledger_browse.rows`) and the rows fill in when it arrives. At
most `MAX_PAGES` pages stay in memory, so a log of 100,000 entries scrolls without
reading more than what is on screen. Newest entries come first. A search narrows the
table to a list of leaves (`set_filter`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)

from app.flows.ledger_browse import PAGE, LogView, Row, rows
from app.tasks import Task
from registry_client.errors import RegistryError

MAX_PAGES = 64
"""Pages kept in memory (16,384 rows)."""
COLUMNS = ("Leaf", "Type", "GTIN", "Serial", "Time (UTC)", "Signed by", "Detail")
LOADING = "…"

_Index = QModelIndex | QPersistentModelIndex


class LedgerModel(QAbstractTableModel):
    """Rows of a `LogView`, newest first, read page by page on demand."""

    page_failed = Signal(object)
    """A page could not be read: the exception."""

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._view: LogView | None = None
        self._size = 0
        self._leaves: tuple[int, ...] | None = None
        self._pages: OrderedDict[int, tuple[Row, ...]] = OrderedDict()
        self._pending: set[int] = set()
        self._failed: set[int] = set()
        self._generation = 0

    def reset(self, view: LogView | None, size: int) -> None:
        """Show ``view``'s first ``size`` entries; nothing is read until rows are shown."""
        self.beginResetModel()
        self._view, self._size, self._leaves = view, size, None
        self._pages.clear()
        self._pending.clear()
        self._failed.clear()
        self._generation += 1
        self.endResetModel()

    def set_filter(self, leaves: Sequence[int] | None) -> None:
        """Show only ``leaves`` (newest first), or every entry again with ``None``."""
        self.beginResetModel()
        self._leaves = None if leaves is None else tuple(sorted(leaves, reverse=True))
        self.endResetModel()

    @property
    def size(self) -> int:
        """The tree size shown."""
        return self._size

    def loaded_pages(self) -> int:
        """Pages in memory now."""
        return len(self._pages)

    def leaf_at(self, row: int) -> int:
        """The leaf index shown in table row ``row``."""
        return self._leaves[row] if self._leaves is not None else self._size - 1 - row

    def row_at(self, row: int) -> Row | None:
        """The entry in table row ``row`` if its page is loaded (it is asked for if not)."""
        leaf = self.leaf_at(row)
        page = self._pages.get(leaf // PAGE)
        if page is None:
            self._request(leaf // PAGE)
            return None
        self._pages.move_to_end(leaf // PAGE)
        return page[leaf % PAGE]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        if parent.isValid():
            return 0
        return len(self._leaves) if self._leaves is not None else self._size

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> str | None:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return COLUMNS[section]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> str | None:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        leaf = self.leaf_at(index.row())
        if index.column() == 0:
            return str(leaf)
        if leaf // PAGE in self._failed:
            return "unreadable" if index.column() == 1 else ""
        row = self.row_at(index.row())
        return LOADING if row is None else _cell(row, index.column())

    def _request(self, page: int) -> None:
        if self._view is None or page in self._pending or page in self._failed:
            return
        self._pending.add(page)
        stop = min(page * PAGE + PAGE, self._size)
        task = Task(partial(_read_page, self._view, self._generation, page, stop))
        task.signals.done.connect(self._on_page)
        task.signals.failed.connect(self.page_failed)
        self._pool.start(task)

    @Slot(object)
    def _on_page(self, result: _PageRead) -> None:
        if result.generation != self._generation:
            return
        self._pending.discard(result.page)
        if isinstance(result.rows, Exception):
            self._failed.add(result.page)
            self.page_failed.emit(result.rows)
        else:
            self._pages[result.page] = result.rows
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        self._changed()

    def _changed(self) -> None:
        if self.rowCount():
            last = self.index(self.rowCount() - 1, len(COLUMNS) - 1)
            self.dataChanged.emit(self.index(0, 0), last)


@dataclass(frozen=True, slots=True, kw_only=True)
class _PageRead:
    generation: int
    page: int
    rows: tuple[Row, ...] | RegistryError | OSError | ValueError


def _read_page(view: LogView, generation: int, page: int, stop: int) -> _PageRead:
    """Read one page; a registry or file error is a result (the page shows unreadable)."""
    try:
        read: tuple[Row, ...] | RegistryError | OSError | ValueError = rows(view, page * PAGE, stop)
    except (RegistryError, OSError, ValueError) as exc:
        read = exc
    return _PageRead(generation=generation, page=page, rows=read)


def _cell(row: Row, column: int) -> str:
    item = row.item
    return (
        "",
        row.kind.value,
        item.gtin if item else "",
        item.serial if item else "",
        row.time.strftime("%Y-%m-%d %H:%M:%S") if row.time else "",
        row.signer,
        row.detail,
    )[column]
