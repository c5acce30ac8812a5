"""The embedded ledger: a C2SP tiled transparency log kept in a folder.

Layout (c2sp.org/tlog-tiles §Checkpoints, §Merkle Tree, §Log entries)::

    DIR/checkpoint                  signed note: origin, tree size, root (tlog-checkpoint)
    DIR/tile/<L>/<N>[.p/<W>]        hash tiles
    DIR/tile/entries/<N>[.p/<W>]    entry bundles
    DIR/blobs/pack/<N>              the blobs (fingerprint templates) of the batch that
                                    began at leaf N, concatenated
    DIR/index.sqlite                lookup keys, entry hashes → leaf index; blob SHA-256
                                    → pack, offset, length
    DIR/lock                        flock(2) target that serialises writers

Entries are opaque bytes of at most 65,535 (the bundle's uint16 length prefix): the
ledger knows no record types. The checkpoint and tiles can be served as they are by a
static web server.

Appending a batch is one step under the lock and yields one new checkpoint:

1. the tiles, bundles and root are computed in memory from the tree's right edge;
2. the index commits the batch's rows, and with them the batch's extent;
3. the blob pack, tiles and bundles are written durably (temp file, fsync, rename,
   dir fsync);
4. the signed checkpoint is written the same way: this is the commit point;
5. partial tiles that just became full are deleted (tlog-tiles §Partial Tiles).

After a crash before step 4 the old checkpoint stands. Readers bound every lookup by its
size, so they never see the cut-short batch; the next writer deletes its files and index
rows (known from step 2) before appending. `Ledger.append` returns only after step 4, so
an acknowledged entry survives a crash or power cut. The partial tiles of every
checkpoint stay on disk until their tile is full, as tlog-tiles requires of a log.

Blobs are found by SHA-256 through the index (the HTTP server serves them as
``blobs/sha256/<hex>``); one pack file per batch rather than a file per blob keeps a
batch of a thousand templates to one file write. Reads check what they cheaply can (an
entry against its level-0 tile hash, a blob against its SHA-256) and raise
`errors.LedgerCorruptError`, naming the file, on a mismatch; `audit.audit` recomputes
everything. Reading the files is `ledger_files`; the tree's right edge, `tree_edge`.
Proofs are computed from the tiles, unchecked: clients verify them against the signed
checkpoint.

References
----------
https://c2sp.org/tlog-tiles, https://c2sp.org/tlog-checkpoint@v1.0.0,
https://c2sp.org/signed-note@v1.0.0; RFC 6962 §2.1 and RFC 9162 §2.1 (Merkle trees).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from registry_client._durable import (
    SYNC_THREADS,
    exclusive_lock,
    make_directories,
    remove_files,
    temp_path,
    write_files,
)
from registry_client._ledger_index import LedgerIndex
from registry_client.checkpoint import Checkpoint, open_checkpoint
from registry_client.errors import (
    CheckpointError,
    LedgerCorruptError,
    ProofError,
    RecordFormatError,
)
from registry_client.ledger_files import (
    CHECKPOINT,
    ENTRIES_PREFIX,
    INDEX,
    LOCK,
    NotInTree,
    new_tiles,
    pack_path,
    partial_tiles,
    published_tile,
    read_blob,
    read_blobs,
    read_note,
    read_tile,
)
from registry_client.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MerkleTree,
    NodeSource,
    leaf_hash,
    verify_consistency,
)
from registry_client.note import KeyType, Note, SignerKey, VerifierKey
from registry_client.tiles import (
    MAX_ENTRY_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    encode_index,
    tile_for_node,
    verify_entry_bundle,
)
from registry_client.tree_edge import TreeEdge

StrPath = str | os.PathLike[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEntry:
    """One entry to append: its bytes, the keys to find it by, and blobs to store with it.

    ``keys`` are ``(kind, key)`` pairs such as ``("serial", "0123")``; ``blobs`` are stored
    under their SHA-256 (the entry itself should name that hash: the ledger does not).
    """

    data: bytes
    keys: Sequence[tuple[str, str]] = ()
    blobs: Sequence[bytes] = ()

    def __post_init__(self) -> None:
        if len(self.data) > MAX_ENTRY_SIZE:
            raise ValueError(f"entry is {len(self.data)} bytes, want ≤ {MAX_ENTRY_SIZE}")
        keys = tuple((kind, key) for kind, key in self.keys)
        for kind, key in keys:
            if not (isinstance(kind, str) and kind and isinstance(key, str) and key):
                raise ValueError(f"index key is ({kind!r}, {key!r}), want two non-empty strings")
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "blobs", tuple(self.blobs))


class Ledger:
    """A tiled transparency log in a folder; writable when opened with the log's signer.

    Build with `create` or `open`; use as a context manager or call `close`. Reads are
    bounded by the checkpoint held (`checkpoint`), which `append` and `refresh` advance.
    One object may be shared between threads; several processes may open one folder
    (writers take turns under the folder's lock).
    """

    __slots__ = (
        "_append_mutex",
        "_index",
        "_log_key",
        "_origin",
        "_pool",
        "_root",
        "_signer",
        "_state",
        "_tile_cache",
    )

    def __init__(
        self,
        root: Path,
        index: LedgerIndex,
        state: _State,
        *,
        log_key: VerifierKey,
        signer: SignerKey | None,
        origin: str | None,
    ) -> None:
        self._root = root
        self._index = index
        self._log_key = log_key
        self._signer = signer
        self._origin = origin
        self._pool = (
            None
            if signer is None
            else ThreadPoolExecutor(max_workers=SYNC_THREADS, thread_name_prefix="ledger-sync")
        )
        self._append_mutex = threading.Lock()
        self._state = state
        self._tile_cache = _TileCache()

    @classmethod
    def create(cls, path: StrPath, signer: SignerKey, *, origin: str | None = None) -> Ledger:
        """A new, empty log in ``path`` (absent or an empty directory), writable.

        ``origin`` (tlog-checkpoint §Note text) defaults to the signer's key name; a
        different one must then be passed to `open` and `audit.audit`.
        """
        if signer.key_type is not KeyType.ED25519:
            raise ValueError(f"log key type is {signer.key_type.name}, want ED25519")
        root = Path(path)
        if root.exists() and any(root.iterdir()):
            raise FileExistsError(f"{root} is not empty")
        make_directories(root)
        LedgerIndex.create(root / INDEX).close()
        empty = Checkpoint(origin=origin or signer.name, size=0, root_hash=EMPTY_ROOT)
        write_files({root / CHECKPOINT: _sign(signer, empty).encode()})
        return cls.open(root, signer, origin=origin)

    @classmethod
    def open(
        cls, path: StrPath, key: SignerKey | VerifierKey, *, origin: str | None = None
    ) -> Ledger:
        """Open the log in ``path``: writable with its `SignerKey`, read-only with a vkey.

        The checkpoint must verify with the key (and ``origin``, by default the key's
        name), else `SignatureError` or `CheckpointError`. A writer first undoes any
        batch a crash cut short.
        """
        root = Path(path)
        signer = key if isinstance(key, SignerKey) else None
        log_key = key.verifier if isinstance(key, SignerKey) else key
        state = _verify(read_note(root), log_key, origin)
        index = LedgerIndex.open(root / INDEX, writable=signer is not None)
        ledger = cls(root, index, state, log_key=log_key, signer=signer, origin=origin)
        if signer is not None:
            try:
                with exclusive_lock(root / LOCK):
                    ledger._recover()
            except BaseException:
                ledger.close()
                raise
        return ledger

    def close(self) -> None:
        """Close the index and stop the writer's threads."""
        if self._pool is not None:
            self._pool.shutdown()
        self._index.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def path(self) -> Path:
        """The ledger folder."""
        return self._root

    @property
    def writable(self) -> bool:
        """Whether `append` may be called (opened with the log's signer)."""
        return self._signer is not None

    @property
    def checkpoint(self) -> Checkpoint:
        """The verified checkpoint every read is bounded by."""
        return self._state.checkpoint

    @property
    def checkpoint_note(self) -> str:
        """That checkpoint as signed-note text, byte for byte as in the folder."""
        return self._state.note

    @property
    def size(self) -> int:
        """The number of entries in the log (the checkpoint's tree size)."""
        return self.checkpoint.size

    def append(self, entries: Sequence[NewEntry]) -> range:
        """Append a batch atomically under one new checkpoint; returns its leaf indexes.

        Returns after everything, checkpoint last, is on disk. If it raises, the batch
        may or may not be in the log; the next `append` or `open` tidies up either way.
        """
        signer = self._signer
        if signer is None:
            raise ValueError("the ledger was opened with a VerifierKey; want its SignerKey")
        if not entries:
            raise ValueError("batch has 0 entries, want at least 1")
        with self._append_mutex, exclusive_lock(self._root / LOCK):
            self._adopt(read_note(self._root))
            self._recover()
            state = self._state
            old = state.checkpoint
            edge = state.edge(self._root).copy()
            files = edge.extend(e.data for e in entries)
            kept = {t.path for t in partial_tiles(old.size)}
            files.update((p, d) for p, d in edge.partial_files().items() if p not in kept)
            new = Checkpoint(origin=old.origin, size=edge.size, root_hash=edge.root())
            note = _sign(signer, new)
            blobs = self._commit_index(old.size, entries)
            write_files({**{self._root / p: d for p, d in files.items()}, **blobs}, self._pool)
            write_files({self._root / CHECKPOINT: note.encode()})
            self._state = _State(note, new, edge)
            self._discard_partials(old.size, new.size)
        return range(old.size, new.size)

    def refresh(self) -> Checkpoint:
        """Adopt the folder's newest checkpoint (another process may have appended).

        It must verify and extend the one held: a consistency proof from the tiles is
        checked (RFC 9162 §2.1.4.2). Raises `CheckpointError` if the log shrank and
        `ProofError` if the new tree does not contain the old one.
        """
        with self._append_mutex:
            self._adopt(read_note(self._root))
        return self.checkpoint

    def entry(self, index: int) -> bytes:
        """Entry ``index``, checked against its level-0 tile hash."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf index is {index}, want 0 ≤ index < {self.size}")
        return self.entries(index, index + 1)[0]

    def entries(self, start: int, stop: int) -> tuple[bytes, ...]:
        """Entries ``start`` to ``stop − 1``, each checked against its level-0 tile hash.

        Raises `LedgerCorruptError` if a bundle is malformed or disagrees with its tile.
        """
        size = self.size
        if not 0 <= start <= stop <= size:
            raise ValueError(f"entry range is {start}:{stop}, want 0 ≤ start ≤ stop ≤ {size}")
        out: list[bytes] = []
        for n in range(start // TILE_WIDTH, -(-stop // TILE_WIDTH)):
            tile = published_tile(0, n, size)
            hashes = read_tile(self._root, tile, size)
            bundle = read_tile(self._root, tile, size, entries=True)
            try:
                bundle_entries = verify_entry_bundle(bundle, tile, hashes)
            except (RecordFormatError, ProofError) as exc:
                raise LedgerCorruptError(str(exc), path=tile.entries_path) from exc
            first = n * TILE_WIDTH
            out.extend(bundle_entries[max(start - first, 0) : stop - first])
        return tuple(out)

    def find(self, kind: str, key: str) -> tuple[int, ...]:
        """Leaf indexes appended under ``(kind, key)``, ascending; empty if none."""
        return self._index.find(kind, key, self.size)

    def find_many(self, kind: str, keys: Iterable[str]) -> dict[str, tuple[int, ...]]:
        """`find` for many keys at once: each key that has leaves, to its leaf indexes."""
        return self._index.find_many(kind, keys, self.size)

    def indexes_of(self, entry: bytes) -> tuple[int, ...]:
        """Leaf indexes holding exactly ``entry``, ascending; empty if none."""
        return self._index.leaves_with_hash(leaf_hash(entry), self.size)

    def blob(self, sha256: bytes) -> bytes:
        """The blob with this SHA-256, stored by an entry in the log.

        Raises ``LookupError`` if no entry stored it and `LedgerCorruptError` if the file
        is missing or its hash differs.
        """
        if len(sha256) != HASH_SIZE:
            raise ValueError(f"blob hash is {len(sha256)} bytes, want {HASH_SIZE}")
        place = self._index.blob(sha256, self.size)
        if place is None:
            raise LookupError(f"no blob {sha256.hex()} in the log of size {self.size}")
        return read_blob(self._root, place)

    def blobs(self, shas: Iterable[bytes]) -> dict[bytes, bytes]:
        """The blobs with these SHA-256 that entries in the log stored, read pack by pack.

        Hashes with no blob are left out; `LedgerCorruptError` as for `blob`.
        """
        return dict(read_blobs(self._root, self._index.places(shas, self.size).values()))

    def inclusion_proof(self, index: int, size: int | None = None) -> tuple[bytes, ...]:
        """``PATH(index, D[0:size])`` from the tiles (RFC 9162 §2.1.3.1).

        ``size`` defaults to the checkpoint's; any earlier tree size may be named.
        """
        view_size = self.size
        size = view_size if size is None else size
        if not 0 <= size <= view_size:
            raise ValueError(f"tree size is {size}, want 0 ≤ size ≤ {view_size}")
        if not 0 <= index < size:
            raise ValueError(f"leaf index is {index}, want 0 ≤ index < {size}")
        return self._tree(view_size).inclusion_proof(index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> tuple[bytes, ...]:
        """``PROOF(size1, D[0:size2])`` from the tiles (RFC 9162 §2.1.4.1).

        Requires ``0 < size1 ≤ size2 ≤`` the checkpoint's size (``size2`` defaults to it).
        """
        view_size = self.size
        size2 = view_size if size2 is None else size2
        if not 0 < size1 <= size2 <= view_size:
            raise ValueError(f"sizes are {size1} → {size2}, want 0 < size1 ≤ size2 ≤ {view_size}")
        return self._tree(view_size).consistency_proof(size1, size2)

    def read(self, path: str) -> bytes:
        """The bytes a static server would send for ``path``, as of the checkpoint held.

        ``path`` is ``checkpoint``, ``tile/<L>/<N>[.p/<W>]`` or
        ``tile/entries/<N>[.p/<W>]``. A partial tile of any width up to the current one
        is cut from the tile as published now (the files kept for older checkpoints are
        for plain static servers; tlog-tiles §Partial Tiles). Tiles are sent unchecked:
        clients verify them. ``ValueError`` for other paths, ``LookupError`` past the tree.
        """
        state = self._state
        if path == CHECKPOINT:
            return state.note.encode()
        entries = path.startswith(ENTRIES_PREFIX)
        tile = Tile.from_entries_path(path) if entries else Tile.from_path(path)
        try:
            return read_tile(self._root, tile, state.checkpoint.size, entries=entries)
        except NotInTree as exc:
            raise LookupError(str(exc)) from exc

    def _commit_index(self, start: int, entries: Sequence[NewEntry]) -> dict[Path, bytes]:
        """Commit the batch's index rows; returns its blob pack file, if it has new blobs."""
        blobs = [
            (i, hashlib.sha256(blob).digest(), blob)
            for i, entry in enumerate(entries, start)
            for blob in entry.blobs
        ]
        stored = self._index.places(sha for _, sha, _ in blobs)
        pack = bytearray()
        places: dict[bytes, tuple[bytes, int, int, int]] = {}
        for i, sha, blob in blobs:
            if sha not in places and sha not in stored:
                places[sha] = (sha, i, len(pack), len(blob))
                pack += blob
        self._index.add_batch(
            start,
            [leaf_hash(e.data) for e in entries],
            [(kind, key, i) for i, e in enumerate(entries, start) for kind, key in e.keys],
            places.values(),
        )
        return {self._root / pack_path(start): bytes(pack)} if pack else {}

    def _tree(self, size: int) -> _TileTree:
        """The tree of ``size`` over the folder's tiles, as published for that size."""
        return _TileTree(self._root, size, self._tile_cache)

    def _adopt(self, note: bytes) -> None:
        """Move to the checkpoint ``note`` if it differs from the one held and extends it."""
        held = self._state
        if note == held.note.encode():
            return
        state = _verify(note, self._log_key, self._origin)
        old, new = held.checkpoint, state.checkpoint
        if new.size < old.size:
            raise CheckpointError(f"tree size went from {old.size} to {new.size}; want growth")
        if old.size:
            proof = self._tree(new.size).consistency_proof(old.size)
            verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
        self._state = state

    def _recover(self) -> None:
        """Bring the folder back to the checkpoint, under the lock.

        Undoes a batch a crash cut short (its extent is in the index), or finishes
        deleting the partial tiles that the last batch made full.
        """
        size = self.size
        indexed, previous = self._index.sizes()
        if indexed < size:
            raise LedgerCorruptError(f"covers {indexed} leaves, checkpoint has {size}", path=INDEX)
        if indexed == size:
            self._discard_partials(previous, size)
            return
        names = [pack_path(pack) for pack in {size, *self._index.packs(size)}]
        for tile in new_tiles(size, indexed):
            names.append(tile.path)
            if tile.level == 0:
                names.append(tile.entries_path)
        doomed = [self._root / name for name in names]
        staged = [temp_path(p) for p in (*doomed, self._root / CHECKPOINT)]
        remove_files([*doomed, *staged])
        self._index.truncate(size)

    def _discard_partials(self, old: int, new: int) -> None:
        """Delete the kept partial files of tiles partial at ``old`` and full at ``new``.

        tlog-tiles §Partial Tiles lets a log drop partial tiles once the full one exists.
        """
        for tile in partial_tiles(old):
            if tile.index >= new >> (TILE_HEIGHT * (tile.level + 1)):
                continue  # not full yet
            name = f"{encode_index(tile.index)}.p"
            shutil.rmtree(self._root / "tile" / str(tile.level) / name, ignore_errors=True)
            if tile.level == 0:
                shutil.rmtree(self._root / "tile" / "entries" / name, ignore_errors=True)


class _State:
    """A verified checkpoint, its note text as on disk, and its tree's right edge.

    The edge is read when a writer first needs it. A `Ledger` swaps whole states, so a
    reader always sees a checkpoint and its note together.
    """

    __slots__ = ("_edge", "checkpoint", "note")

    def __init__(self, note: str, checkpoint: Checkpoint, edge: TreeEdge | None = None) -> None:
        self.note = note
        self.checkpoint = checkpoint
        self._edge = edge

    def edge(self, root: Path) -> TreeEdge:
        """The right edge, read from the partial tiles and checked against the root."""
        if self._edge is None:
            self._edge = TreeEdge.read(root, self.checkpoint)
        return self._edge


class _TileCache:
    """Recently used tiles, each expanded into a `MerkleTree` of its inner subtree hashes.

    A proof needs a few hashes from each of a few tiles, most of them inner nodes that
    would otherwise be rehashed from the tile's 256 hashes on every request. A tile's
    bytes never change for a given width (tlog-tiles §Merkle Tree), so entries stay
    valid as the log grows.
    """

    __slots__ = ("_mutex", "_trees")

    CAPACITY = 256
    """Tiles kept: about 16 KB each."""

    def __init__(self) -> None:
        self._trees: OrderedDict[Tile, MerkleTree] = OrderedDict()
        self._mutex = threading.Lock()

    def get(self, root: Path, tile: Tile, size: int) -> MerkleTree:
        """``tile`` of the tree of ``size``, read from the folder on a miss."""
        with self._mutex:
            tree = self._trees.get(tile)
            if tree is not None:
                self._trees.move_to_end(tile)
                return tree
        data = read_tile(root, tile, size)
        tree = MerkleTree(data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE))
        with self._mutex:
            self._trees[tile] = tree
            if len(self._trees) > self.CAPACITY:
                self._trees.popitem(last=False)
        return tree


class _TileTree(NodeSource):
    """The tree of ``size`` leaves over the folder's tiles, read through a `_TileCache`."""

    __slots__ = ("_cache", "_root", "_size")

    def __init__(self, root: Path, size: int, cache: _TileCache) -> None:
        self._root = root
        self._size = size
        self._cache = cache

    @property
    def size(self) -> int:
        """Number of leaves."""
        return self._size

    def node(self, height: int, index: int) -> bytes:
        """Complete subtree ``(height, index)``: a node of the tile that holds it."""
        tile = tile_for_node(height, index, self._size)
        rise = height - TILE_HEIGHT * tile.level
        tree = self._cache.get(self._root, tile, self._size)
        return tree.node(rise, index % (TILE_WIDTH >> rise))


def _verify(note: bytes, log_key: VerifierKey, origin: str | None) -> _State:
    verified = open_checkpoint(note, (log_key,), origin=origin)
    return _State(note.decode(), verified.checkpoint)


def _sign(signer: SignerKey, checkpoint: Checkpoint) -> str:
    text = checkpoint.format()
    return Note(text=text, signatures=(signer.sign(text),)).format()
