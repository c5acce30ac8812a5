"""A tiled transparency log kept in PostgreSQL: the same tiles, checkpoints and index as
`registry_client.ledger.Ledger`, for several server processes over one database.

Appending a batch is one transaction:

1. lock the single ``log_head`` row ``FOR UPDATE`` — writers in every process queue
   here, so leaf indexes are handed out once, with no gap;
2. read the tree's right edge (cached while this process was the last writer, else
   rebuilt from the partial tiles and checked against the checkpoint's root);
3. in one pipelined round trip, write the new tiles, entry bundles, index keys, blobs,
   the products' items and the newly signed checkpoint into ``log_head``;
4. roll back if an item already had a product record (``products``' primary key, so
   two servers cannot both log one item); else commit.

A reader never sees half a batch: tiles, index and checkpoint commit together. Reads
are bounded by the checkpoint this process holds, so rows another server commits stay
invisible until `refresh` adopts its checkpoint; a tile stored wider than the tree held
is cut to the published width (tlog-tiles §Partial Tiles: a partial tile of an older
tree is a prefix). On a hot standby (``pg_basebackup -R``) the log opens read-only.

References: c2sp.org/tlog-tiles, c2sp.org/tlog-checkpoint; RFC 9162 §2.1.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterable, Sequence
from typing import Any, LiteralString

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from registry_client.checkpoint import Checkpoint, open_checkpoint
from registry_client.errors import (
    CheckpointError,
    LedgerCorruptError,
    ProofError,
    RecordFormatError,
)
from registry_client.item import ItemId
from registry_client.ledger import NewEntry
from registry_client.ledger_files import CHECKPOINT
from registry_client.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from registry_client.note import Note, SignerKey
from registry_client.registry import ITEM, DuplicateItemError
from registry_client.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    TileHashes,
    tile_for_node,
    tiles_for_consistency,
    tiles_for_inclusion,
    tiles_for_root,
    verify_entry_bundle,
)
from registry_client.tree_edge import TreeEdge
from registry_server.postgres.schema import check, migrate
from registry_server.store import ReadOnlyLogError

_Conn = psycopg.Connection[tuple[Any, ...]]


class PostgresLog:
    """The log in the database at ``dsn``, signed by ``signer``; build with `open`.

    Offers what `embedded.EmbeddedRegistry` and the server use of a `Ledger`: the
    `store.LogReader` reads, `find_many` and `append`. Safe to share between threads.
    """

    def __init__(
        self, pool: ConnectionPool[_Conn], signer: SignerKey, *, writable: bool, where: str
    ) -> None:
        self._pool = pool
        self._where = where
        self._signer = signer
        self._writable = writable
        self._mutex = threading.Lock()
        empty = Checkpoint(origin=signer.name, size=0, root_hash=EMPTY_ROOT)
        self._held = ("", empty)  # note and checkpoint, swapped together
        self._edge: TreeEdge | None = None

    @classmethod
    def open(cls, dsn: str, signer: SignerKey, *, pool_size: int = 8) -> PostgresLog:
        """Connect, create or migrate the schema (on a primary), and read the checkpoint."""
        pool: ConnectionPool[_Conn] = ConnectionPool(
            dsn, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=True
        )
        try:
            with pool.connection() as conn:
                standby = bool(_one(conn, "SELECT pg_is_in_recovery()"))
                if standby:
                    check(conn)
                else:
                    migrate(conn)
                    empty = Checkpoint(origin=signer.name, size=0, root_hash=EMPTY_ROOT)
                    conn.execute(
                        "INSERT INTO log_head VALUES (0, 0, %s) ON CONFLICT DO NOTHING",
                        (_sign(signer, empty),),
                    )
            info = conninfo_to_dict(dsn)
            host, port, name = (info.get(k, "") for k in ("host", "port", "dbname"))
            where = f"postgresql://{host}:{port}/{name}"
            log = cls(pool, signer, writable=not standby, where=where)
            log.refresh()
        except BaseException:
            pool.close()
            raise
        return log

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.close()

    @property
    def path(self) -> str:
        """Where the log is, for messages: the database, without credentials."""
        return self._where

    @property
    def writable(self) -> bool:
        """Whether `append` may be called (a primary, not a standby)."""
        return self._writable

    @property
    def checkpoint(self) -> Checkpoint:
        """The verified checkpoint every read is bounded by."""
        return self._held[1]

    @property
    def checkpoint_note(self) -> str:
        """That checkpoint as signed-note text."""
        return self._held[0]

    @property
    def size(self) -> int:
        """The checkpoint's tree size."""
        return self._held[1].size

    def refresh(self) -> Checkpoint:
        """Adopt the database's newest checkpoint (another server may have appended)."""
        floor = self.size  # committed before the query starts: the query sees it
        with self._pool.connection() as conn:
            note = str(_one(conn, "SELECT note FROM log_head WHERE id = 0"))
            with self._mutex:
                self._adopt(conn, note, floor)
                return self.checkpoint

    def read(self, path: str) -> bytes:
        """``checkpoint`` or a ``tile/…`` path of the tree held; ``LookupError`` past it."""
        if path == CHECKPOINT:
            return self.checkpoint_note.encode()
        entries = path.startswith("tile/entries/")
        tile = Tile.from_entries_path(path) if entries else Tile.from_path(path)
        with self._pool.connection() as conn:
            return _tile_at(conn, tile, self.size, entries=entries)

    def blob(self, sha256: bytes) -> bytes:
        """A stored template by SHA-256; ``LookupError`` if none in the tree held."""
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT data FROM blobs WHERE sha256 = %s AND leaf < %s", (sha256, self.size)
            ).fetchone()
        if row is None:
            raise LookupError(f"no blob with SHA-256 {sha256.hex()}")
        return bytes(row[0])

    def find(self, kind: str, key: str) -> tuple[int, ...]:
        """Leaf indexes logged under ``(kind, key)``, ascending."""
        return self.find_many(kind, [key]).get(key, ())

    def find_many(self, kind: str, keys: Iterable[str]) -> dict[str, tuple[int, ...]]:
        """`find` for many keys in one query; keys with no leaf are left out."""
        found: dict[str, list[int]] = {}
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT key, leaf FROM lookup WHERE kind = %s AND key = ANY(%s) AND leaf < %s "
                "ORDER BY key, leaf",
                (kind, list(dict.fromkeys(keys)), self.size),
            )
            for key, leaf in rows:
                found.setdefault(str(key), []).append(int(str(leaf)))
        return {key: tuple(leaves) for key, leaves in found.items()}

    def entry(self, index: int) -> bytes:
        """The entry at leaf ``index`` of the tree held."""
        size = self.size
        if not 0 <= index < size:
            raise ValueError(f"leaf index is {index}, want 0 ≤ index < {size}")
        tile = Tile(level=0, index=index // TILE_WIDTH)
        with self._pool.connection() as conn:
            data = _stored_tile(conn, tile, entries=True)
        if data is None:
            raise LedgerCorruptError("row is missing", path=tile.entries_path)
        return _bundle_entry(data, index % TILE_WIDTH, tile.entries_path)

    def entries(self, start: int, stop: int) -> tuple[bytes, ...]:
        """Entries ``start`` to ``stop − 1`` of the tree held, each checked against its
        level-0 tile hash (as `Ledger.entries`: what a walk of the log reads)."""
        size = self.size
        if not 0 <= start <= stop <= size:
            raise ValueError(f"entry range is {start}:{stop}, want 0 ≤ start ≤ stop ≤ {size}")
        first = start // TILE_WIDTH
        with self._pool.connection() as conn:
            bundles = [_checked_bundle(conn, n, size) for n in range(first, -(-stop // TILE_WIDTH))]
        at = first * TILE_WIDTH
        return tuple(itertools.chain.from_iterable(bundles))[start - at : stop - at]

    def blobs(self, shas: Iterable[bytes]) -> dict[bytes, bytes]:
        """The blobs with these SHA-256 stored in the tree held, in one query; hashes
        with no blob are left out (as `Ledger.blobs`)."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT sha256, data FROM blobs WHERE sha256 = ANY(%b::bytea[]) AND leaf < %s",
                (list(dict.fromkeys(shas)), self.size),
            ).fetchall()
        return {bytes(sha): bytes(data) for sha, data in rows}

    def inclusion_proof(self, index: int) -> tuple[bytes, ...]:
        """Leaf ``index``'s inclusion proof in the tree held, from its tiles (RFC 9162 §2.1.3.1)."""
        size = self.size
        if not 0 <= index < size:
            raise ValueError(f"leaf index is {index}, want 0 ≤ index < {size}")
        return self._tiles(tiles_for_inclusion(index, size), size).inclusion_proof(index)

    def consistency_proof(self, size1: int, size2: int | None = None) -> tuple[bytes, ...]:
        """``PROOF(size1, D[0:size2])`` from the tiles (RFC 9162 §2.1.4.1); ``size2``
        defaults to the tree held's size, which it may not exceed (as `Ledger`'s)."""
        held = self.size
        size = held if size2 is None else size2
        if not 0 < size1 <= size <= held:
            raise ValueError(f"sizes are {size1} → {size}, want 0 < size1 ≤ size2 ≤ {held}")
        return self._tiles(tiles_for_consistency(size1, size), size).consistency_proof(size1)

    def _tiles(self, tiles: Iterable[Tile], size: int) -> TileHashes:
        return TileHashes(size, {tile: self.read(tile.path) for tile in tiles})

    def append(self, entries: Sequence[NewEntry]) -> range:
        """Log ``entries`` as one batch under one new checkpoint, in one transaction."""
        if not self._writable:
            raise ReadOnlyLogError("this database is a read-only standby: post to the primary")
        if not entries:
            raise ValueError("batch has 0 entries, want at least 1")
        with self._pool.connection() as conn, conn.transaction():
            note = str(_one(conn, "SELECT note FROM log_head WHERE id = 0 FOR UPDATE"))
            with self._mutex:
                self._adopt(conn, note, self.checkpoint.size)
                old = self.checkpoint
                edge = self._edge_of(conn, old).copy()
            files = edge.extend(e.data for e in entries)
            files.update(edge.partial_files())
            new = Checkpoint(origin=old.origin, size=edge.size, root_hash=edge.root())
            new_note = _sign(self._signer, new)
            products = _product_items(entries, old.size)
            with conn.pipeline():  # one round trip for the lot
                claimed = conn.execute(
                    "INSERT INTO products SELECT * FROM unnest(%s::text[], %s::bigint[]) "
                    "ON CONFLICT DO NOTHING RETURNING item",
                    (list(products), list(products.values())),
                )
                _write_batch(conn, old.size, entries, files)
                conn.execute("UPDATE log_head SET size = %s, note = %s", (new.size, new_note))
            _refuse_logged(conn, products, {row[0] for row in claimed.fetchall()})
        with self._mutex:
            if self.checkpoint.size <= new.size:
                self._held, self._edge = (new_note, new), edge
        return range(old.size, new.size)

    def _adopt(self, conn: _Conn, note: str, floor: int) -> None:
        """Hold ``note`` if it verifies and extends the tree held (under the mutex).

        ``floor`` is the size held when ``note`` was read: a smaller tree means the log
        shrank (`CheckpointError`); one between it and the size held now was overtaken
        by this process's own append meanwhile, and is ignored. A larger tree must
        contain the one held: a consistency proof from the stored tiles is checked
        (RFC 9162 §2.1.4.2; `ProofError` for a forked log), as `Ledger.refresh` does.
        """
        if note == self.checkpoint_note:
            return
        checkpoint = open_checkpoint(
            note, (self._signer.verifier,), origin=self.checkpoint.origin
        ).checkpoint
        if checkpoint.size < floor:
            raise CheckpointError(
                f"database checkpoint has size {checkpoint.size}, smaller than the {floor} held"
            )
        held = self.checkpoint
        if checkpoint.size < held.size:
            return
        if held.size:
            tiles = tiles_for_consistency(held.size, checkpoint.size)
            proof = TileHashes(
                checkpoint.size, {t: _tile_at(conn, t, checkpoint.size) for t in tiles}
            ).consistency_proof(held.size)
            verify_consistency(
                held.size, checkpoint.size, proof, held.root_hash, checkpoint.root_hash
            )
        self._held, self._edge = (note, checkpoint), None

    def _edge_of(self, conn: _Conn, checkpoint: Checkpoint) -> TreeEdge:
        """The right edge of the tree held: cached, or read from its partial tiles."""
        if self._edge is None or self._edge.size != checkpoint.size:
            self._edge = _read_edge(conn, checkpoint)
        return self._edge


def _read_edge(conn: _Conn, checkpoint: Checkpoint) -> TreeEdge:
    size = checkpoint.size
    partial: dict[int, bytes] = {}
    for tile in tiles_for_root(size):
        data = _stored_tile(conn, tile, entries=False) or b""
        partial[tile.level] = data[: tile.width * HASH_SIZE]
    levels = [bytearray(partial.get(level, b"")) for level in range(max(partial, default=-1) + 1)]
    entries: list[bytes] = []
    if size % TILE_WIDTH:
        tile = Tile(level=0, index=size // TILE_WIDTH, width=size % TILE_WIDTH)
        data = _stored_tile(conn, tile, entries=True) or b""
        entries = [_bundle_entry(data, i, tile.entries_path) for i in range(tile.width)]
    edge = TreeEdge(size, levels, entries)
    if edge.root() != checkpoint.root_hash:
        raise LedgerCorruptError(
            f"partial tiles give root {edge.root().hex()}, "
            f"checkpoint says {checkpoint.root_hash.hex()}",
            path=CHECKPOINT,
        )
    return edge


def _product_items(entries: Sequence[NewEntry], start: int) -> dict[str, int]:
    """The items of the batch's product records, to their leaves.

    A product record is the entry that stores a template blob under an ``item`` key
    (`registry.entry_keys`; events and revocations store no blob): no parsing needed.
    """
    return {
        key: leaf
        for leaf, entry in enumerate(entries, start)
        if entry.blobs
        for kind, key in entry.keys
        if kind == ITEM
    }


def _refuse_logged(conn: _Conn, products: dict[str, int], claimed: set[str]) -> None:
    """`DuplicateItemError` (rolling the batch back) for an item logged before it."""
    for key in products:
        if key not in claimed:
            row = conn.execute("SELECT leaf FROM products WHERE item = %s", (key,)).fetchone()
            leaf = products[key] if row is None else int(row[0])
            raise DuplicateItemError(ItemId.parse(key), leaf_index=leaf)


def _write_batch(
    conn: _Conn, start: int, entries: Sequence[NewEntry], files: dict[str, bytes]
) -> None:
    """The batch's tiles, bundles, index keys and blobs, each table in one statement."""
    tiles = [(Tile.from_path(p), d) for p, d in files.items() if not p.startswith("tile/entries/")]
    bundles = [
        (Tile.from_entries_path(p), d) for p, d in files.items() if p.startswith("tile/entries/")
    ]
    conn.execute(
        "INSERT INTO hash_tiles SELECT * FROM unnest(%s::smallint[], %s::bigint[], %b::bytea[]) "
        "ON CONFLICT (level, idx) DO UPDATE SET data = EXCLUDED.data",
        ([t.level for t, _ in tiles], [t.index for t, _ in tiles], [d for _, d in tiles]),
    )
    conn.execute(
        "INSERT INTO bundles SELECT * FROM unnest(%s::bigint[], %b::bytea[]) "
        "ON CONFLICT (idx) DO UPDATE SET data = EXCLUDED.data",
        ([t.index for t, _ in bundles], [d for _, d in bundles]),
    )
    keys = [(kind, key, leaf) for leaf, e in enumerate(entries, start) for kind, key in e.keys]
    conn.execute(
        "INSERT INTO lookup SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[]) "
        "ON CONFLICT DO NOTHING",
        ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
    )
    blobs: dict[bytes, tuple[int, bytes]] = {}
    for leaf, entry in enumerate(entries, start):
        for data in entry.blobs:
            blobs.setdefault(hashlib.sha256(data).digest(), (leaf, data))
    conn.execute(
        "INSERT INTO blobs SELECT * FROM unnest(%b::bytea[], %s::bigint[], %b::bytea[]) "
        "ON CONFLICT (sha256) DO NOTHING",
        (list(blobs), [leaf for leaf, _ in blobs.values()], [d for _, d in blobs.values()]),
    )


def _checked_bundle(conn: _Conn, index: int, size: int) -> tuple[bytes, ...]:
    """The entries of level-0 tile ``index`` as published for ``size``, each checked
    against the tile's hash (`LedgerCorruptError` naming the bundle if one differs)."""
    tile = Tile(level=0, index=index, width=min(TILE_WIDTH, size - index * TILE_WIDTH))
    bundle = _tile_at(conn, tile, size, entries=True)
    try:
        return verify_entry_bundle(bundle, tile, _tile_at(conn, tile, size))
    except (RecordFormatError, ProofError) as exc:
        raise LedgerCorruptError(str(exc), path=tile.entries_path) from exc


def _tile_at(conn: _Conn, tile: Tile, size: int, *, entries: bool = False) -> bytes:
    """``tile`` (or its entry bundle) as published for a tree of ``size``, cut from the
    stored row; ``LookupError`` past the tree."""
    name = tile.entries_path if entries else tile.path
    try:
        published = tile_for_node(TILE_HEIGHT * tile.level, tile.index * TILE_WIDTH, size)
    except ValueError as exc:
        raise LookupError(f"{name} is past a tree of size {size}") from exc
    if tile.width > published.width:
        raise LookupError(f"{name} is wider than the {published.width} hashes of {size}")
    data = _stored_tile(conn, tile, entries=entries)
    if data is None:
        raise LedgerCorruptError("row is missing", path=name)
    return _cut_bundle(data, tile.width, name) if entries else data[: tile.width * HASH_SIZE]


def _stored_tile(conn: _Conn, tile: Tile, *, entries: bool) -> bytes | None:
    """The stored row of ``tile`` (or its entry bundle), as wide as it has grown."""
    if entries:
        row = conn.execute("SELECT data FROM bundles WHERE idx = %s", (tile.index,)).fetchone()
    else:
        row = conn.execute(
            "SELECT data FROM hash_tiles WHERE level = %s AND idx = %s", (tile.level, tile.index)
        ).fetchone()
    return None if row is None else bytes(row[0])


def _bundle_offsets(data: bytes, count: int, path: str) -> list[int]:
    """Where each of the bundle's first ``count`` entries starts, and where the last ends."""
    offsets = [0]
    for _ in range(count):
        at = offsets[-1]
        if at + 2 > len(data):
            raise LedgerCorruptError(f"bundle ends before entry {len(offsets) - 1}", path=path)
        offsets.append(at + 2 + int.from_bytes(data[at : at + 2], "big"))
    if offsets[-1] > len(data):
        raise LedgerCorruptError(f"entry {count - 1} runs past the bundle", path=path)
    return offsets


def _cut_bundle(data: bytes, width: int, path: str) -> bytes:
    """The bundle of the first ``width`` entries of a stored (possibly wider) one."""
    return data[: _bundle_offsets(data, width, path)[-1]]


def _bundle_entry(data: bytes, position: int, path: str) -> bytes:
    offsets = _bundle_offsets(data, position + 1, path)
    return data[offsets[-2] + 2 : offsets[-1]]


def _one(conn: _Conn, query: LiteralString) -> object:
    row = conn.execute(query).fetchone()
    if row is None:
        raise LedgerCorruptError("the log has no head row", path="log_head")
    return row[0]


def _sign(signer: SignerKey, checkpoint: Checkpoint) -> str:
    text = checkpoint.format()
    return Note(text=text, signatures=(signer.sign(text),)).format()
