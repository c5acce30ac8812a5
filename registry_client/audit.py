"""The full audit of a ledger folder: every tile, bundle, index row and blob recomputed.

`hallmark log verify DIR` runs it: the entries give the tiles and the root, which must
equal the files and the signed checkpoint.

References
----------
https://c2sp.org/tlog-tiles, https://c2sp.org/tlog-checkpoint; RFC 9162 §2.1.
"""

from __future__ import annotations

import os
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from registry_client._ledger_index import LedgerIndex
from registry_client.checkpoint import Checkpoint, open_checkpoint
from registry_client.errors import LedgerCorruptError
from registry_client.ledger_files import (
    CHECKPOINT,
    ENTRIES_PREFIX,
    INDEX,
    cut,
    parse_bundle,
    published_tile,
    read_blobs,
    read_note,
    read_tile,
)
from registry_client.merkle import leaf_hash
from registry_client.note import VerifierKey
from registry_client.tiles import TILE_WIDTH, Tile
from registry_client.tree_edge import TreeEdge

StrPath = str | os.PathLike[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditReport:
    """What `audit` recomputed and found equal to the files: counts of each kind."""

    checkpoint: Checkpoint
    tiles: int
    """Hash tiles compared, kept partial tiles for older checkpoints included."""
    bundles: int
    """Entry bundles parsed and compared, kept partial ones included."""
    leaves: int
    """Index rows (entry → leaf hash) compared."""
    blobs: int
    """Blobs read and hashed."""


def audit(path: StrPath, log_key: VerifierKey, *, origin: str | None = None) -> AuditReport:
    """Recompute every tile and the root from the entries and compare with the folder.

    Checks the checkpoint's signature; every entry bundle and hash tile of its tree,
    including partial tiles kept for older checkpoints; the root; the index's entry
    hashes; and every blob's SHA-256. Raises `SignatureError` or `CheckpointError` for
    the checkpoint and `LedgerCorruptError`, naming the file, for anything else. Only
    reads: a batch a crash cut short is ignored, and a writer may append meanwhile.
    """
    root = Path(path)
    checkpoint = open_checkpoint(read_note(root), (log_key,), origin=origin).checkpoint
    size = checkpoint.size
    edge = TreeEdge(0, [], [])
    compared: list[str] = []
    with closing(LedgerIndex.open(root / INDEX, writable=False)) as index:
        for n in range(-(-size // TILE_WIDTH)):
            tile = published_tile(0, n, size)
            entries = parse_bundle(read_tile(root, tile, size, entries=True), tile)
            stored = index.leaf_hashes(n * TILE_WIDTH, n * TILE_WIDTH + tile.width)
            if stored != b"".join(leaf_hash(e) for e in entries):
                raise LedgerCorruptError(f"leaf hashes of {tile.entries_path} differ", path=INDEX)
            compared += _compare(root, edge.extend(entries), size)
        blobs = index.blobs(0, size)
    compared += _compare(root, edge.partial_files(), size)
    calculated = edge.root()
    if calculated != checkpoint.root_hash:
        raise LedgerCorruptError(
            f"entries give root {calculated.hex()}, want {checkpoint.root_hash.hex()}",
            path=CHECKPOINT,
        )
    compared += _compare_kept_partials(root, edge)
    for _ in read_blobs(root, blobs):
        pass
    bundles = sum(name.startswith(ENTRIES_PREFIX) for name in compared)
    return AuditReport(
        checkpoint=checkpoint,
        tiles=len(compared) - bundles,
        bundles=bundles,
        leaves=size,
        blobs=len(blobs),
    )


def _compare(root: Path, files: dict[str, bytes], size: int) -> list[str]:
    """Check the folder serves each file's bytes for the tree of ``size``; returns the names."""
    for name, want in files.items():
        entries = name.startswith(ENTRIES_PREFIX)
        tile = Tile.from_entries_path(name) if entries else Tile.from_path(name)
        got = read_tile(root, tile, size, entries=entries)
        if got != want:
            raise LedgerCorruptError(
                f"{len(got)} bytes differ from the {len(want)} the entries give", path=name
            )
    return list(files)


def _compare_kept_partials(root: Path, edge: TreeEdge) -> list[str]:
    """Check the partial tiles kept for older checkpoints are prefixes of the current ones.

    Files wider than the current tile belong to a batch a crash cut short: skipped.
    """
    compared: list[str] = []
    for name, data in edge.partial_files().items():
        entries = name.startswith(ENTRIES_PREFIX)
        current = Tile.from_entries_path(name) if entries else Tile.from_path(name)
        try:
            widths = [int(f.name) for f in (root / name).parent.iterdir() if f.name.isdigit()]
        except FileNotFoundError:  # a writer has since filled the tile and dropped its partials
            continue
        for width in sorted(w for w in widths if 0 < w < current.width):
            kept = Tile(level=current.level, index=current.index, width=width)
            kept_name = kept.entries_path if entries else kept.path
            try:
                found = (root / kept_name).read_bytes()
            except FileNotFoundError:  # dropped meanwhile, as above
                continue
            if found != cut(data, current, kept, entries=entries):
                raise LedgerCorruptError(
                    "differs from a prefix of the current tile", path=kept_name
                )
            compared.append(kept_name)
    return compared
