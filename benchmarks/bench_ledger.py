"""Speed of the embedded ledger against plain references measured in the same run.

- Appends: batches of 1,000 small entries (about 60 bytes, one serial key each) through
  `Ledger.append` — tiles, entry bundles, SQLite index, signed checkpoint, every file
  fsync'd — against the same rows put in a plain SQLite table (WAL, ``synchronous=FULL``,
  one transaction per batch). Then the same with a 1 KB template blob per entry.
- Inclusion proofs: `Ledger.inclusion_proof` read from the tiles on disk, against
  ``PATH`` computed by the RFC 6962 §2.1.1 recursion over leaf hashes read from the
  plain table (what a log without stored tree hashes must do).
- Verification: `merkle.verify_inclusion` (RFC 9162 §2.1.3.2), alone and with an Ed25519
  signature check over each entry (a manufacturer's record signature), against the root
  rebuilt by the straight RFC 6962 recursion plus the same signature check; on one core,
  then spread over a pool of two processes.

Rates are entries (or proofs) per second over the whole run; ratios are ours over the
reference, measured in this process. Nothing is asserted; other load on the machine
shows in the reported load average.

Run: ``.venv/bin/python benchmarks/bench_ledger.py [--batches N]``
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nacl.signing
from _table import print_table as markdown_table

from registry_client.ledger import Ledger, NewEntry
from registry_client.merkle import leaf_hash, node_hash, root_from_inclusion_proof
from registry_client.note import KeyType, SignerKey

BATCH = 1_000
LOG = SignerKey(name="bench.example/log", key_type=KeyType.ED25519, seed=bytes(32))
MAKER = nacl.signing.SigningKey(bytes(range(32)))

RootOf = Callable[[bytes, int, int, Sequence[bytes]], bytes]
"""The root an inclusion proof implies: ``(leaf hash, index, size, proof) → root``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    operation: str
    reference: str
    reference_rate: float
    ours: str
    ours_rate: float
    check: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """What a verifier holds for one entry: the entry, its signature, index and proof."""

    entry: bytes
    signature: bytes
    index: int
    proof: tuple[bytes, ...]


def record(i: int) -> bytes:
    return b'{"gtin":"09506000134352","serial":"SN%010d","sku":"A-1"}' % i


def batches(count: int, *, blob: bool) -> list[list[NewEntry]]:
    return [
        [
            NewEntry(
                data=record(i),
                keys=[("serial", f"SN{i:010d}")],
                blobs=[hashlib.sha256(b"%d" % i).digest() * 32] if blob else [],
            )
            for i in range(b * BATCH, (b + 1) * BATCH)
        ]
        for b in range(count)
    ]


def rate(count: int, call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return count / (time.perf_counter() - start)


def plain_table(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE log (leaf INTEGER PRIMARY KEY, data BLOB, serial TEXT, blob BLOB)")
    db.execute("CREATE INDEX log_serial ON log (serial)")
    return db


def plain_append(db: sqlite3.Connection, work: Sequence[Sequence[NewEntry]]) -> None:
    leaf = 0
    for batch in work:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO log VALUES (?, ?, ?, ?)",
            [
                (leaf + i, e.data, e.keys[0][1], e.blobs[0] if e.blobs else None)
                for i, e in enumerate(batch)
            ],
        )
        db.execute("COMMIT")
        leaf += len(batch)


def ledger_append(ledger: Ledger, work: Sequence[Sequence[NewEntry]]) -> None:
    for batch in work:
        ledger.append(batch)


def append_row(folder: Path, name: str, work: list[list[NewEntry]]) -> Row:
    count = sum(len(b) for b in work)
    blobs = sum(len(e.blobs) for b in work for e in b)
    db = plain_table(folder / f"{name}.sqlite")
    plain = rate(count, lambda: plain_append(db, work))
    db.close()
    with Ledger.create(folder / name, LOG) as ledger:
        ours = rate(count, lambda: ledger_append(ledger, work))
        size = ledger.size
    return Row(
        operation=f"append {len(work)} batches of {BATCH:,}" + (" + 1 KB blobs" if blobs else ""),
        reference="plain SQLite table",
        reference_rate=plain,
        ours="Ledger.append",
        ours_rate=ours,
        check=f"{size:,} entries, one checkpoint per batch",
    )


def split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def recursive_mth(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the RFC 6962 §2.1 recursion over leaf hashes."""
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node_hash(recursive_mth(leaves[:k]), recursive_mth(leaves[k:]))


def recursive_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) by the RFC 6962 §2.1.1 recursion."""
    if len(leaves) == 1:
        return []
    k = split(len(leaves))
    if index < k:
        return [*recursive_path(index, leaves[:k]), recursive_mth(leaves[k:])]
    return [*recursive_path(index - k, leaves[k:]), recursive_mth(leaves[:k])]


def recursive_root(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root ``proof`` implies, reading the RFC 6962 §2.1.1 recursion backwards."""
    if size == 1:
        if proof:
            raise ValueError(f"{len(proof)} hashes left over")
        return leaf
    k = split(size)
    *inner, sibling = proof
    if index < k:
        return node_hash(recursive_root(leaf, index, k, inner), sibling)
    return node_hash(sibling, recursive_root(leaf, index - k, size - k, inner))


def verify(
    items: Sequence[Item], size: int, root: bytes, signer: bytes | None, root_of: RootOf
) -> int:
    """Check each item's proof leads to ``root`` (and its signature, given the key)."""
    key = None if signer is None else nacl.signing.VerifyKey(signer)
    for item in items:
        if key is not None:
            key.verify(item.entry, item.signature)
        if root_of(leaf_hash(item.entry), item.index, size, item.proof) != root:
            raise ValueError(f"proof {item.index} does not lead to the root")
    return len(items)


_WORK: tuple[Sequence[Item], int, bytes] = ((), 0, b"")
"""A pool worker's copy of the items, tree size and root, sent once when it starts."""


def _receive(items: Sequence[Item], size: int, root: bytes) -> None:
    global _WORK
    _WORK = (items, size, root)


def _verify_half(half: int, root_of: RootOf) -> int:
    items, size, root = _WORK
    middle = len(items) // 2
    part = items[:middle] if half == 0 else items[middle:]
    return verify(part, size, root, bytes(MAKER.verify_key), root_of)


def on_two_cores(pool: ProcessPoolExecutor, root_of: RootOf) -> int:
    """Each of the pool's two workers verifies half of the items it already holds."""
    return sum(pool.map(_verify_half, (0, 1), (root_of, root_of)))


def proof_rows(folder: Path, count: int) -> list[Row]:
    with Ledger.create(folder / "proofs", LOG) as ledger:
        ledger_append(ledger, batches(count, blob=False))
        size, root = ledger.size, ledger.checkpoint.root_hash
        rng = random.Random(1)
        indexes = [rng.randrange(size) for _ in range(20_000)]
        slow = indexes[:20]
        leaves = [leaf_hash(record(i)) for i in range(size)]  # as read from the plain table
        same = all(ledger.inclusion_proof(i) == tuple(recursive_path(i, leaves)) for i in slow)
        rows = [
            Row(
                operation=f"inclusion proof, tree of {size:,}",
                reference="RFC 6962 recursion over leaves",
                reference_rate=rate(len(slow), lambda: [recursive_path(i, leaves) for i in slow]),
                ours="Ledger.inclusion_proof (tiles)",
                ours_rate=rate(2_000, lambda: [ledger.inclusion_proof(i) for i in indexes[:2_000]]),
                check="same proofs" if same else "DIFFERENT",
            )
        ]
        items = [
            Item(
                entry=record(i),
                signature=MAKER.sign(record(i)).signature,
                index=i,
                proof=ledger.inclusion_proof(i),
            )
            for i in indexes
        ]
    n, signer = len(items), bytes(MAKER.verify_key)
    ours, ref = root_from_inclusion_proof, recursive_root
    rows.append(
        Row(
            operation="verify inclusion proof",
            reference="RFC 6962 recursion",
            reference_rate=rate(n, lambda: verify(items, size, root, None, ref)),
            ours="merkle (RFC 9162 §2.1.3.2)",
            ours_rate=rate(n, lambda: verify(items, size, root, None, ours)),
            check=f"{n:,} proofs",
        )
    )
    rows.append(
        Row(
            operation="verify proof + Ed25519, 1 process",
            reference="recursion + Ed25519",
            reference_rate=rate(n, lambda: verify(items, size, root, signer, ref)),
            ours="merkle + Ed25519",
            ours_rate=rate(n, lambda: verify(items, size, root, signer, ours)),
        )
    )
    context = multiprocessing.get_context("spawn")
    work = (items, size, root)
    with ProcessPoolExecutor(2, mp_context=context, initializer=_receive, initargs=work) as pool:
        on_two_cores(pool, ours)  # start both workers and hand them the items first
        rows.append(
            Row(
                operation="verify proof + Ed25519, 2 processes",
                reference="recursion + Ed25519",
                reference_rate=rate(n, lambda: on_two_cores(pool, ref)),
                ours="merkle + Ed25519",
                ours_rate=rate(n, lambda: on_two_cores(pool, ours)),
            )
        )
    return rows


def print_table(rows: list[Row]) -> None:
    header = ("operation", "reference", "per s", "hallmark", "per s", "ratio", "check")
    lines = [
        (
            r.operation,
            r.reference,
            f"{r.reference_rate:,.0f}",
            r.ours,
            f"{r.ours_rate:,.0f}",
            f"{r.ours_rate / r.reference_rate:.2f}x",
            r.check,
        )
        for r in rows
    ]
    markdown_table(header, lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=20, help="batches of 1,000 to append")
    count = parser.parse_args().batches
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as folder:
        rows = [
            append_row(Path(folder), "small", batches(count, blob=False)),
            append_row(Path(folder), "blobs", batches(max(count // 4, 1), blob=True)),
            *proof_rows(Path(folder), count),
        ]
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}.")
    print_table(rows)


if __name__ == "__main__":
    main()
