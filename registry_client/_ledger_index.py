"""The embedded ledger's SQLite index: lookup keys, entries and blobs → leaf indexes.

Tables (schema version 2, kept in ``PRAGMA user_version``):

- ``meta``: one row: ``size``, the leaves the index covers, and ``previous_size``, the
  size before the last batch (so a writer can finish tidying up after that batch).
- ``leaves(leaf, hash)``: each entry's RFC 6962 leaf hash, to find an entry's index.
- ``lookup(kind, key, leaf)``: caller-chosen keys such as ``("serial", "…")``.
- ``blobs(sha256, leaf, pack, offset, length)``: each stored blob, the first leaf that
  stored it, and where its bytes are: the pack file of the batch that began at leaf
  ``pack``, from byte ``offset``.

The index commits a batch *before* the ledger writes that batch's checkpoint, so after a
crash it may run ahead of the checkpoint, never behind. Every query therefore takes the
checkpoint's tree size as a bound, and rows at or past it stay invisible until the
writer rolls them back. WAL journal with ``synchronous=FULL``: a commit is on disk when
it returns.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

SCHEMA_VERSION = 2
"""Version 2 keys items by GTIN + serial and keeps blobs in one pack file per batch."""
NO_LIMIT = 2**63 - 1
"""Largest SQLite integer: an open upper bound for leaf ranges."""
_IN_CHUNK = 500
"""Keys per ``IN (…)`` query, well inside SQLite's bound on parameters."""

_SCHEMA = """
CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL,
    previous_size INTEGER NOT NULL
);
INSERT INTO meta VALUES (0, 0, 0);
CREATE TABLE leaves (leaf INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE INDEX leaves_by_hash ON leaves (hash);
CREATE TABLE lookup (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    leaf INTEGER NOT NULL,
    PRIMARY KEY (kind, key, leaf)
) WITHOUT ROWID;
CREATE INDEX lookup_by_leaf ON lookup (leaf);
CREATE TABLE blobs (
    sha256 BLOB PRIMARY KEY,
    leaf INTEGER NOT NULL,
    pack INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX blobs_by_leaf ON blobs (leaf);
"""


class BlobPlace(NamedTuple):
    """Where a blob's bytes are: pack file ``pack`` (a batch's first leaf), at ``offset``."""

    sha256: bytes
    pack: int
    offset: int
    length: int


class LedgerIndex:
    """One connection to ``index.sqlite``; safe to share between threads.

    Build with `create` or `open`.
    """

    __slots__ = ("_db", "_mutex")

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._mutex = threading.Lock()

    @classmethod
    def create(cls, path: Path) -> LedgerIndex:
        """A new, empty index at ``path`` (which must not exist)."""
        if path.exists():
            raise FileExistsError(f"{path} already exists")
        db = _connect(path, writable=True)
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        return cls(db)

    @classmethod
    def open(cls, path: Path, *, writable: bool) -> LedgerIndex:
        """The index at ``path``; ``FileNotFoundError`` if missing, ``ValueError`` if foreign."""
        if not path.is_file():
            raise FileNotFoundError(f"no ledger index at {path}")
        db = _connect(path, writable=writable)
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version != SCHEMA_VERSION:
            db.close()
            raise ValueError(f"{path} has index schema {version}, want {SCHEMA_VERSION}")
        return cls(db)

    def close(self) -> None:
        """Close the connection."""
        with self._mutex:
            self._db.close()

    def sizes(self) -> tuple[int, int]:
        """``(size, previous_size)``: the tree size the index covers, and the one before."""
        with self._mutex:
            size, previous = self._db.execute("SELECT size, previous_size FROM meta").fetchone()
        return int(size), int(previous)

    def add_batch(
        self,
        start: int,
        leaf_hashes: Sequence[bytes],
        keys: Iterable[tuple[str, str, int]],
        blobs: Iterable[tuple[bytes, int, int, int]],
    ) -> None:
        """Commit one batch: leaves ``start, start+1, …``, their keys and their blobs.

        ``blobs`` are ``(sha256, leaf, offset, length)`` in the batch's pack (named
        ``start``). The index must cover exactly ``start`` leaves (``ValueError``
        otherwise). Blobs already stored keep their first leaf and place.
        """
        with self._mutex, _transaction(self._db):
            size = self._size()
            if size != start:
                raise ValueError(f"index covers {size} leaves, want {start}")
            self._db.executemany(
                "INSERT INTO leaves (leaf, hash) VALUES (?, ?)", enumerate(leaf_hashes, start)
            )
            self._db.executemany("INSERT OR IGNORE INTO lookup VALUES (?, ?, ?)", keys)
            self._db.executemany(
                "INSERT OR IGNORE INTO blobs VALUES (?, ?, ?, ?, ?)",
                ((sha, leaf, start, offset, length) for sha, leaf, offset, length in blobs),
            )
            end = start + len(leaf_hashes)
            self._db.execute("UPDATE meta SET size = ?, previous_size = ?", (end, start))

    def blobs(self, start: int, stop: int = NO_LIMIT) -> tuple[BlobPlace, ...]:
        """The blobs first stored by a leaf in ``start`` to ``stop − 1``, in pack order."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT sha256, pack, offset, length FROM blobs WHERE leaf >= ? AND leaf < ? "
                "ORDER BY pack, offset",
                (start, stop),
            )
            return tuple(BlobPlace(*row) for row in rows)

    def places(self, shas: Iterable[bytes], below: int = NO_LIMIT) -> dict[bytes, BlobPlace]:
        """Where each of ``shas`` stored by a leaf ``< below`` is; others are left out."""
        wanted = list(dict.fromkeys(shas))
        found: dict[bytes, BlobPlace] = {}
        with self._mutex:
            for i in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[i : i + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT sha256, pack, offset, length FROM blobs "
                    f"WHERE sha256 IN ({marks}) AND leaf < ?",
                    (*chunk, below),
                )
                found.update((row[0], BlobPlace(*row)) for row in rows)
        return found

    def packs(self, start: int) -> tuple[int, ...]:
        """The pack files holding a blob first stored by a leaf at or past ``start``."""
        with self._mutex:
            rows = self._db.execute("SELECT DISTINCT pack FROM blobs WHERE leaf >= ?", (start,))
            return tuple(pack for (pack,) in rows)

    def truncate(self, size: int) -> None:
        """Forget every leaf, key and blob at or past ``size``; the index then covers ``size``."""
        with self._mutex, _transaction(self._db):
            for table in ("leaves", "lookup", "blobs"):
                self._db.execute(f"DELETE FROM {table} WHERE leaf >= ?", (size,))
            self._db.execute("UPDATE meta SET size = ?, previous_size = ?", (size, size))

    def find(self, kind: str, key: str, below: int) -> tuple[int, ...]:
        """Leaves under ``(kind, key)`` with index ``< below``, ascending."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT leaf FROM lookup WHERE kind = ? AND key = ? AND leaf < ? ORDER BY leaf",
                (kind, key, below),
            )
            return tuple(leaf for (leaf,) in rows)

    def find_many(self, kind: str, keys: Iterable[str], below: int) -> dict[str, tuple[int, ...]]:
        """`find` for many keys in few queries: each key with leaves ``< below``, ascending.

        Keys with no leaf are left out.
        """
        wanted = list(dict.fromkeys(keys))
        found: dict[str, list[int]] = {}
        with self._mutex:
            for i in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[i : i + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, leaf FROM lookup WHERE kind = ? AND key IN ({marks}) "
                    "AND leaf < ? ORDER BY key, leaf",
                    (kind, *chunk, below),
                )
                for key, leaf in rows:
                    found.setdefault(key, []).append(leaf)
        return {key: tuple(leaves) for key, leaves in found.items()}

    def leaves_with_hash(self, leaf_hash: bytes, below: int) -> tuple[int, ...]:
        """Leaves whose RFC 6962 leaf hash is ``leaf_hash``, with index ``< below``."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT leaf FROM leaves WHERE hash = ? AND leaf < ? ORDER BY leaf",
                (leaf_hash, below),
            )
            return tuple(leaf for (leaf,) in rows)

    def leaf_hashes(self, start: int, stop: int) -> bytes:
        """The stored leaf hashes of leaves ``start`` to ``stop − 1``, concatenated."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT hash FROM leaves WHERE leaf >= ? AND leaf < ? ORDER BY leaf",
                (start, stop),
            )
            return b"".join(h for (h,) in rows)

    def blob(self, sha256: bytes, below: int) -> BlobPlace | None:
        """Where the blob with this SHA-256 is, if a leaf ``< below`` stored it."""
        with self._mutex:
            row = self._db.execute(
                "SELECT sha256, pack, offset, length FROM blobs WHERE sha256 = ? AND leaf < ?",
                (sha256, below),
            ).fetchone()
        return None if row is None else BlobPlace(*row)

    def _size(self) -> int:
        (size,) = self._db.execute("SELECT size FROM meta").fetchone()
        return int(size)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` if the block raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _connect(path: Path, *, writable: bool) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode={'rwc' if writable else 'ro'}"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA synchronous = FULL")
    return db
