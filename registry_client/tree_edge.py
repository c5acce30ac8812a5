"""The right edge of a tiled Merkle tree: what appending leaves and computing the root need.

Shared by the folder ledger and the PostgreSQL log, which publish the same tiles.

References
----------
https://c2sp.org/tlog-tiles §Merkle Tree; RFC 9162 §2.1.1.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from registry_client.checkpoint import Checkpoint
from registry_client.errors import LedgerCorruptError, ProofError, RecordFormatError
from registry_client.ledger_files import CHECKPOINT, partial_tiles, published_tile, read_tile
from registry_client.merkle import HASH_SIZE, leaf_hash, root_hash
from registry_client.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    TileHashes,
    format_entry_bundle,
    verify_entry_bundle,
)

_TILE_BYTES = TILE_WIDTH * HASH_SIZE


class TreeEdge:
    """The right edge of a tiled tree: enough to append leaves and compute the root.

    ``levels[L]`` holds the hashes of level ``L``'s rightmost, partial tile (empty when
    the level ends on a full tile); ``entries`` holds the partial entry bundle. A full
    tile's subtree hash joins the level above (tlog-tiles §Merkle Tree); the partial
    tiles are exactly the ones the root is computed from.
    """

    __slots__ = ("entries", "levels", "size")

    def __init__(self, size: int, levels: list[bytearray], entries: list[bytes]) -> None:
        self.size = size
        self.levels = levels
        self.entries = entries

    @classmethod
    def read(cls, root: Path, checkpoint: Checkpoint) -> TreeEdge:
        """The edge of the tree ``checkpoint`` commits to, from its partial tiles."""
        size = checkpoint.size
        partial = {t.level: read_tile(root, t, size) for t in partial_tiles(size)}
        depth = max(partial, default=-1) + 1
        levels = [bytearray(partial.get(level, b"")) for level in range(depth)]
        entries: list[bytes] = []
        if size % TILE_WIDTH:
            tile = published_tile(0, size // TILE_WIDTH, size)
            bundle = read_tile(root, tile, size, entries=True)
            try:
                entries = list(verify_entry_bundle(bundle, tile, partial[0]))
            except (RecordFormatError, ProofError) as exc:
                raise LedgerCorruptError(str(exc), path=tile.entries_path) from exc
        edge = cls(size, levels, entries)
        calculated = edge.root()
        if calculated != checkpoint.root_hash:
            raise LedgerCorruptError(
                f"partial tiles give root {calculated.hex()}, "
                f"checkpoint says {checkpoint.root_hash.hex()}",
                path=CHECKPOINT,
            )
        return edge

    def copy(self) -> TreeEdge:
        """An independent copy, to extend without touching this one."""
        return TreeEdge(self.size, [bytearray(row) for row in self.levels], list(self.entries))

    def extend(self, entries: Iterable[bytes]) -> dict[str, bytes]:
        """Append entries; returns the full tiles and bundles they complete, by path."""
        done: dict[str, bytes] = {}
        for entry in entries:
            self.entries.append(entry)
            self.size += 1
            node, level = leaf_hash(entry), 0
            while True:
                if level == len(self.levels):
                    self.levels.append(bytearray())
                row = self.levels[level]
                row += node
                if len(row) < _TILE_BYTES:
                    break
                tile = Tile(level=level, index=(self.size >> (TILE_HEIGHT * (level + 1))) - 1)
                data = done[tile.path] = bytes(row)
                if level == 0:
                    done[tile.entries_path] = format_entry_bundle(self.entries)
                    self.entries.clear()
                row.clear()
                node = root_hash(
                    [data[i : i + HASH_SIZE] for i in range(0, _TILE_BYTES, HASH_SIZE)]
                )
                level += 1
        return done

    def partial_tiles(self) -> dict[Tile, bytes]:
        """The rightmost partial tile of each level that has one."""
        return {
            Tile(
                level=level,
                index=self.size >> (TILE_HEIGHT * (level + 1)),
                width=len(row) // HASH_SIZE,
            ): bytes(row)
            for level, row in enumerate(self.levels)
            if row
        }

    def partial_files(self) -> dict[str, bytes]:
        """The partial tiles and the partial entry bundle, by path."""
        files = {tile.path: data for tile, data in self.partial_tiles().items()}
        if self.entries:
            tile = Tile(level=0, index=self.size // TILE_WIDTH, width=len(self.entries))
            files[tile.entries_path] = format_entry_bundle(self.entries)
        return files

    def root(self) -> bytes:
        """``MTH(D[0:size])``, from the partial tiles alone."""
        return TileHashes(self.size, self.partial_tiles()).root()
