"""C2SP tiled transparency logs (tlog-tiles): paths, tile contents, entry bundles.

A level-``L`` tile holds up to 256 consecutive tree hashes of height ``8L``: the *n*-th
tile's *i*-th hash is ``MTH(D[(256n + i)·256^L : (256n + i + 1)·256^L])``. Full tiles
are 256 hashes wide; the rightmost tile of each level is *partial*, ``⌊s / 256^L⌋ mod
256`` hashes wide for a tree of size ``s``, and served at ``.p/<W>``. Entry bundles hold
the entries behind a level-0 tile, each prefixed by its big-endian uint16 length.

`TileHashes` is a `merkle.NodeSource` over fetched tiles, so roots and proofs come from
tiles with the same code as from the in-memory tree; `tiles_for_inclusion` and friends
say which tiles to fetch first.

References
----------
https://c2sp.org/tlog-tiles (§Merkle Tree, §Partial Tiles, §Log entries)
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from registry_client.errors import ProofError, RecordFormatError
from registry_client.merkle import HASH_SIZE, NodeSource, leaf_hash

TILE_HEIGHT = 8
"""Tree levels spanned by one tile."""
TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile (256)."""
MAX_LEVEL = 63
"""Highest tile level a path may name."""
MAX_ENTRY_SIZE = 0xFFFF
"""Largest entry an entry bundle can hold (uint16 length prefix)."""

_INDEX = r"((?:x[0-9]{3}/)*[0-9]{3})"
_WIDTH = r"(?:\.p/([1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?"  # 1 to 255
_TILE_PATH = re.compile(rf"tile/(0|[1-9][0-9]?)/{_INDEX}{_WIDTH}")
_ENTRIES_PATH = re.compile(rf"tile/entries/{_INDEX}{_WIDTH}")


def encode_index(n: int) -> str:
    """A tile index as zero-padded 3-digit path elements, all but the last ``x``-prefixed.

    ``1234067 → "x001/x234/067"`` (tlog-tiles §Merkle Tree).
    """
    if n < 0:
        raise ValueError(f"tile index is {n}, want ≥ 0")
    groups: list[str] = []
    while True:
        n, group = divmod(n, 1000)
        groups.append(f"{group:03d}")
        if n == 0:
            break
    return "/".join([*(f"x{g}" for g in reversed(groups[1:])), groups[0]])


def _tile(level: str, index: str, width: str | None) -> Tile:
    """A tile from the groups of a path match."""
    if index.startswith("x000/"):
        raise ValueError(f"tile index {index!r} has a leading zero group")
    number = int(index.replace("x", "").replace("/", ""))
    return Tile(level=int(level), index=number, width=int(width) if width else TILE_WIDTH)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tile:
    """Tile ``index`` at ``level``, ``width`` hashes wide (256 unless partial)."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not 0 <= self.level <= MAX_LEVEL:
            raise ValueError(f"tile level is {self.level}, want 0 ≤ level ≤ {MAX_LEVEL}")
        if self.index < 0:
            raise ValueError(f"tile index is {self.index}, want ≥ 0")
        if not 1 <= self.width <= TILE_WIDTH:
            raise ValueError(f"tile width is {self.width}, want 1 ≤ width ≤ {TILE_WIDTH}")

    @classmethod
    def from_path(cls, path: str) -> Tile:
        """Parse ``tile/<L>/<N>[.p/<W>]``; raises ``ValueError`` for any other text."""
        match = _TILE_PATH.fullmatch(path)
        if match is None:
            raise ValueError(f"not a tile path: {path!r}")
        return _tile(*match.groups())

    @classmethod
    def from_entries_path(cls, path: str) -> Tile:
        """Parse ``tile/entries/<N>[.p/<W>]`` as its level-0 tile; ``ValueError`` otherwise."""
        match = _ENTRIES_PATH.fullmatch(path)
        if match is None:
            raise ValueError(f"not an entry bundle path: {path!r}")
        return _tile("0", *match.groups())

    @property
    def is_partial(self) -> bool:
        """Whether the tile is narrower than 256 hashes."""
        return self.width < TILE_WIDTH

    @property
    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]``."""
        return f"tile/{self.level}/{self._name()}"

    @property
    def entries_path(self) -> str:
        """``tile/entries/<N>[.p/<W>]``: the entry bundle behind this level-0 tile."""
        if self.level != 0:
            raise ValueError(f"entry bundles sit behind level-0 tiles, not level {self.level}")
        return f"tile/entries/{self._name()}"

    def _name(self) -> str:
        suffix = f".p/{self.width}" if self.is_partial else ""
        return encode_index(self.index) + suffix


def tree_tiles(size: int) -> tuple[Tile, ...]:
    """Every tile of a tree of ``size`` leaves, level by level, partial ones last.

    For 70,000 leaves: 273 full level-0 tiles, ``0/273.p/112``, ``1/000``,
    ``1/001.p/17`` and ``2/000.p/1`` (tlog-tiles §Partial Tiles).
    """
    if size < 0:
        raise ValueError(f"tree size is {size}, want ≥ 0")
    tiles: list[Tile] = []
    level = 0
    while count := size >> (TILE_HEIGHT * level):
        full, partial = divmod(count, TILE_WIDTH)
        tiles.extend(Tile(level=level, index=n) for n in range(full))
        if partial:
            tiles.append(Tile(level=level, index=full, width=partial))
        level += 1
    return tuple(tiles)


def tile_for_node(height: int, index: int, size: int) -> Tile:
    """The tile, as published for a tree of ``size``, that holds complete subtree
    ``(height, index)`` — directly, or as the hashes it is computed from."""
    if height < 0 or index < 0 or (index + 1) << height > size:
        raise ValueError(f"no complete subtree at height {height}, index {index} in size {size}")
    level, rise = divmod(height, TILE_HEIGHT)
    n = (index << rise) >> TILE_HEIGHT
    full, partial = divmod(size >> (TILE_HEIGHT * level), TILE_WIDTH)
    return Tile(level=level, index=n, width=TILE_WIDTH if n < full else partial)


class _TileRecorder(NodeSource):
    """A stand-in tree that notes which tiles each requested node lives in."""

    __slots__ = ("_size", "tiles")

    def __init__(self, size: int) -> None:
        self._size = size
        self.tiles: set[Tile] = set()

    @property
    def size(self) -> int:
        return self._size

    def node(self, height: int, index: int) -> bytes:
        self.tiles.add(tile_for_node(height, index, self._size))
        return bytes(HASH_SIZE)


def tiles_for_root(size: int) -> frozenset[Tile]:
    """The tiles from which the root of a tree of ``size`` can be computed."""
    recorder = _TileRecorder(size)
    recorder.root()
    return frozenset(recorder.tiles)


def tiles_for_inclusion(index: int, size: int) -> frozenset[Tile]:
    """The tiles from which leaf ``index``'s inclusion proof in ``size`` can be computed."""
    recorder = _TileRecorder(size)
    recorder.inclusion_proof(index)
    return frozenset(recorder.tiles)


def tiles_for_consistency(size1: int, size2: int) -> frozenset[Tile]:
    """The tiles (as published for ``size2``) for a consistency proof ``size1 → size2``."""
    recorder = _TileRecorder(size2)
    recorder.consistency_proof(size1)
    return frozenset(recorder.tiles)


def tile_data(source: NodeSource, tile: Tile) -> bytes:
    """The bytes of ``tile``: its ``width`` hashes of height ``8·level``, concatenated."""
    first = tile.index * TILE_WIDTH
    height = TILE_HEIGHT * tile.level
    return b"".join(source.node(height, first + i) for i in range(tile.width))


class TileHashes(NodeSource):
    """Tree hashes for a tree of ``size`` leaves, read from fetched tiles.

    ``tiles`` maps each tile to its bytes. A full tile may stand in for the partial one
    a smaller tree publishes (tlog-tiles §Partial Tiles). Hashes inside a tile are
    hashed up to the requested height. Nothing here is trusted: check `root` against a
    verified checkpoint, or verify proofs built from these tiles against one.
    """

    __slots__ = ("_size", "_tiles")

    def __init__(self, size: int, tiles: Mapping[Tile, bytes]) -> None:
        if size < 0:
            raise ValueError(f"tree size is {size}, want ≥ 0")
        self._size = size
        self._tiles: dict[tuple[int, int], bytes] = {}
        for tile, data in tiles.items():
            if len(data) != tile.width * HASH_SIZE:
                raise ProofError(f"{tile.path} is {len(data)} bytes, want {tile.width * HASH_SIZE}")
            key = (tile.level, tile.index)
            if len(data) > len(self._tiles.get(key, b"")):
                self._tiles[key] = data

    @property
    def size(self) -> int:
        """Number of leaves in the tree the tiles describe."""
        return self._size

    def node(self, height: int, index: int) -> bytes:
        """Hash of complete subtree ``(height, index)``, from the tile that holds it.

        Raises ``LookupError`` naming the tile when it was not supplied.
        """
        tile = tile_for_node(height, index, self._size)
        rise = height - TILE_HEIGHT * tile.level
        first = (index << rise) % TILE_WIDTH
        data = self._tiles.get((tile.level, tile.index), b"")
        end = (first + (1 << rise)) * HASH_SIZE
        if len(data) < end:
            raise LookupError(f"tile {tile.path} is needed but was not supplied")
        return _tile_levels(data)[rise][first >> rise]


@functools.lru_cache(maxsize=1024)
def _tile_levels(data: bytes) -> tuple[tuple[bytes, ...], ...]:
    """Every complete subtree hash inside a tile's bytes: ``[rise][position]``.

    Computed once per tile content (remembered by the bytes: a proof, then the next
    proof through the same tile, look up instead of rehashing up to 255 nodes).
    """
    level = tuple(data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE))
    levels = [level]
    while len(level) > 1:
        level = tuple(
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        )
        levels.append(level)
    return tuple(levels)


def format_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries as a bundle: each prefixed by its big-endian uint16 length."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise ValueError(f"bundle has {len(entries)} entries, want 1 to {TILE_WIDTH}")
    out = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"entry {i} is {len(entry)} bytes, want ≤ {MAX_ENTRY_SIZE}")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def parse_entry_bundle(data: bytes, tile: Tile) -> tuple[bytes, ...]:
    """Split the entry bundle behind level-0 ``tile`` into exactly ``tile.width`` entries.

    Raises `RecordFormatError` on a truncated bundle, trailing bytes or a wrong count.
    """
    where = tile.entries_path  # refuses tiles above level 0
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise RecordFormatError(f"truncated length prefix at byte {offset}", field=where)
        end = offset + 2 + int.from_bytes(data[offset : offset + 2], "big")
        if end > len(data):
            raise RecordFormatError(
                f"entry {len(entries)} ends at byte {end}, bundle has {len(data)}", field=where
            )
        entries.append(data[offset + 2 : end])
        offset = end
    if len(entries) != tile.width:
        raise RecordFormatError(
            f"bundle has {len(entries)} entries, want {tile.width}", field=where
        )
    return tuple(entries)


def verify_entry_bundle(data: bytes, tile: Tile, tile_hashes: bytes) -> tuple[bytes, ...]:
    """Parse an entry bundle and check each entry hashes to its level-0 tile hash.

    Raises `RecordFormatError` if malformed and `ProofError` naming the first entry
    whose leaf hash differs.
    """
    entries = parse_entry_bundle(data, tile)
    if len(tile_hashes) != tile.width * HASH_SIZE:
        raise ProofError(f"{tile.path} is {len(tile_hashes)} bytes, want {tile.width * HASH_SIZE}")
    for i, entry in enumerate(entries):
        want = tile_hashes[i * HASH_SIZE : (i + 1) * HASH_SIZE]
        got = leaf_hash(entry)
        if got != want:
            raise ProofError(
                f"entry {tile.index * TILE_WIDTH + i} hashes to {got.hex()}, "
                f"{tile.path} says {want.hex()}"
            )
    return entries
