"""The storage seam: what the server needs from the log it serves and writes.

`embedded.EmbeddedRegistry` (the ledger folder: tiles and blob packs on disk, a SQLite
index) implements `Store`; another backend (PostgreSQL for sequencing and the index,
tiles in an object store) implements the same two protocols and the routes, the
sequencer and the witness stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from registry_client.checkpoint import Checkpoint
from registry_client.embedded import Admission
from registry_client.errors import RegistryError
from registry_client.item import ItemId
from registry_client.ledger import NewEntry
from registry_client.records import SignedEnvelope


class ReadOnlyLogError(RegistryError):
    """This server's log cannot be appended to (a read replica): answered 503."""


class LogReader(Protocol):
    """Reads of the log as of the checkpoint held; `ledger.Ledger` implements it."""

    @property
    def checkpoint_note(self) -> str:
        """The checkpoint every read is bounded by, as signed-note text."""
        ...

    @property
    def size(self) -> int:
        """The checkpoint's tree size."""
        ...

    def refresh(self) -> Checkpoint:
        """Adopt the newest checkpoint (another writer may have appended)."""
        ...

    def read(self, path: str) -> bytes:
        """``checkpoint`` or a ``tile/…`` path; ``LookupError`` past the tree."""
        ...

    def blob(self, sha256: bytes) -> bytes:
        """A stored template by SHA-256; ``LookupError`` if none."""
        ...

    def find(self, kind: str, key: str) -> Sequence[int]:
        """Leaf indexes logged under ``(kind, key)``, ascending."""
        ...

    def entry(self, index: int) -> bytes:
        """The entry at leaf ``index``."""
        ...


class Store(Protocol):
    """Admission checks and batched appends over a `LogReader`."""

    @property
    def ledger(self) -> LogReader:
        """The log's reads."""
        ...

    def admit_products(
        self, items: Sequence[Admission], pending: Sequence[ItemId] = ()
    ) -> list[NewEntry | RegistryError | ValueError]:
        """Each product record's entry, or the error refusing it (see `EmbeddedRegistry`)."""
        ...

    def admit_event(self, envelope: SignedEnvelope) -> NewEntry:
        """An event's entry; raises the error refusing it."""
        ...

    def append(self, entries: Sequence[NewEntry]) -> range:
        """Log admitted entries as one batch under one new checkpoint; their leaves."""
        ...
