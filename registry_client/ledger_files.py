"""Reading a ledger folder's files: tiles and entry bundles as published for a tree
size, blob packs, and the checkpoint note.

A partial tile is published for each checkpoint and kept until its tile is full
(tlog-tiles §Partial Tiles), so a tile of any width up to a tree's is read from the file
of that width or cut from a wider one. Reads check what they cheaply can and raise
`errors.LedgerCorruptError` naming the file.

References
----------
https://c2sp.org/tlog-tiles
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

from registry_client._ledger_index import BlobPlace
from registry_client.errors import LedgerCorruptError, RecordFormatError
from registry_client.merkle import HASH_SIZE
from registry_client.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    format_entry_bundle,
    parse_entry_bundle,
    tile_for_node,
    tiles_for_root,
)

CHECKPOINT = "checkpoint"
"""The checkpoint's path in the folder."""
INDEX = "index.sqlite"
"""The SQLite index's path in the folder."""
LOCK = "lock"
"""The writers' lock file's path in the folder."""
ENTRIES_PREFIX = "tile/entries/"
"""Where entry bundles are, in the folder."""


class NotInTree(ValueError):
    """A tile path names hashes past the tree of the checkpoint held."""


def published_tile(level: int, index: int, size: int) -> Tile:
    """Tile ``index`` of ``level`` as published for a tree of ``size`` (full or partial)."""
    try:
        return tile_for_node(TILE_HEIGHT * level, index * TILE_WIDTH, size)
    except ValueError as exc:
        raise NotInTree(f"tile {index} of level {level} is past a tree of size {size}") from exc


def read_tile(root: Path, tile: Tile, size: int, *, entries: bool = False) -> bytes:
    """The bytes of ``tile`` (or its entry bundle) in the tree of ``size``.

    Read from the file published for ``size``, or from the full tile once a newer
    checkpoint has made that partial tile full and its file is gone; cut to
    ``tile.width`` when narrower. Raises `NotInTree` past the tree.
    """
    published = published_tile(tile.level, tile.index, size)
    if tile.width > published.width:
        raise NotInTree(f"{tile.path} is wider than the {published.width} hashes of {size}")
    candidates = [published]
    if published.is_partial:
        candidates.append(Tile(level=tile.level, index=tile.index))
    for candidate in candidates:
        name = candidate.entries_path if entries else candidate.path
        try:
            data = (root / name).read_bytes()
        except FileNotFoundError:
            continue
        return (
            data if candidate.width == tile.width else cut(data, candidate, tile, entries=entries)
        )
    missing = published.entries_path if entries else published.path
    raise LedgerCorruptError("file is missing", path=missing)


def cut(data: bytes, wide: Tile, narrow: Tile, *, entries: bool) -> bytes:
    """The bytes of ``narrow`` (or its entry bundle), cut from those of ``wide``."""
    if entries:
        return format_entry_bundle(parse_bundle(data, wide)[: narrow.width])
    if len(data) != wide.width * HASH_SIZE:
        raise LedgerCorruptError(
            f"{len(data)} bytes, want {wide.width * HASH_SIZE}", path=wide.path
        )
    return data[: narrow.width * HASH_SIZE]


def parse_bundle(data: bytes, tile: Tile) -> tuple[bytes, ...]:
    try:
        return parse_entry_bundle(data, tile)
    except RecordFormatError as exc:
        raise LedgerCorruptError(str(exc), path=tile.entries_path) from exc


def partial_tiles(size: int) -> frozenset[Tile]:
    """The partial tiles of a tree of ``size``: at most one per level, its rightmost.

    They are exactly the tiles its root is computed from (`tiles.tiles_for_root`): the
    root folds the complete subtrees given by the bits of ``size``, and those of heights
    ``8L`` to ``8L + 7`` are hashes of level ``L``'s partial tile.
    """
    return tiles_for_root(size)


def new_tiles(old: int, new: int) -> Iterator[Tile]:
    """Tiles published for tree size ``new`` but not for ``old ≤ new``."""
    level = 0
    while new >> (TILE_HEIGHT * level):
        shift = TILE_HEIGHT * (level + 1)
        for n in range(old >> shift, new >> shift):
            yield Tile(level=level, index=n)
        width = (new >> (TILE_HEIGHT * level)) % TILE_WIDTH
        if width and old >> (TILE_HEIGHT * level) != new >> (TILE_HEIGHT * level):
            yield Tile(level=level, index=new >> shift, width=width)
        level += 1


def pack_path(pack: int) -> str:
    return f"blobs/pack/{pack}"


def read_blob(root: Path, place: BlobPlace) -> bytes:
    """The blob at ``place``, checked against its SHA-256."""
    ((_, data),) = read_blobs(root, [place])
    return data


def read_blobs(root: Path, places: Iterable[BlobPlace]) -> Iterator[tuple[bytes, bytes]]:
    """``(sha256, blob)`` for each of ``places``, each pack opened once, each blob checked."""
    in_order = sorted(places, key=lambda p: (p.pack, p.offset))
    for pack, group in itertools.groupby(in_order, key=lambda p: p.pack):
        name = pack_path(pack)
        try:
            file = (root / name).open("rb")
        except FileNotFoundError as exc:
            raise LedgerCorruptError("blob pack is missing", path=name) from exc
        with file:
            for place in group:
                file.seek(place.offset)
                yield place.sha256, _checked_blob(file.read(place.length), place, name)


def _checked_blob(data: bytes, place: BlobPlace, name: str) -> bytes:
    if len(data) != place.length:
        raise LedgerCorruptError(
            f"blob {place.sha256.hex()} at byte {place.offset} is cut short", path=name
        )
    calculated = hashlib.sha256(data).digest()
    if calculated != place.sha256:
        raise LedgerCorruptError(
            f"blob hashes to {calculated.hex()}, want {place.sha256.hex()}", path=name
        )
    return data


def read_note(root: Path) -> bytes:
    try:
        return (root / CHECKPOINT).read_bytes()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"no ledger in {root}: {CHECKPOINT} is missing") from exc
