"""Offline bundle: export and verify a 100,000-item bundle, against a per-item reference.

Setup builds a ledger of ``--items`` signed product records (batched appends, each with
a template blob). Then it times `export_bundle` (selection: the one manufacturer, so
every item), `open_bundle` (the full offline verification: tile proofs, every entry's
hash, every record's signature and template), and, on a bounded sample, the plain
reference: each item's inclusion proof folded with the straight recursive RFC 6962
§2.1.1 ``PATH`` definition plus its record signature, and `BundleRegistry.lookup`.
Prints a table; asserts nothing about time.

    .venv/bin/python benchmarks/bench_bundle.py [--items 100000] [--sample 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from registry_client.bundle import (
    Bundle,
    BundleRegistry,
    Outbox,
    Selection,
    SelectionKind,
    export_bundle,
    open_bundle,
)
from registry_client.item import ItemId, gtin_check_digit
from registry_client.ledger import Ledger, NewEntry
from registry_client.merkle import leaf_hash
from registry_client.note import KeyType, SignerKey
from registry_client.policy import Log, TrustPolicy
from registry_client.records import ProductRecord, Region, SignedEnvelope, Signer
from registry_client.registry import entry_keys

LOG = SignerKey(name="bench.example/log", key_type=KeyType.ED25519, seed=bytes(range(32)))
MAKER = Signer.from_seed("maker", bytes(range(1, 33)))
POLICY = TrustPolicy(
    logs=(Log(key=LOG.verifier),), witnesses=(), groups=(), quorum="none",
    manufacturers=(MAKER.verifier,),
)  # fmt: skip
GTIN = "0061414100001" + gtin_check_digit("0061414100001")
TEMPLATE_SIZE = 512
BATCH = 10_000


def build_ledger(path: Path, items: int) -> Ledger:
    """A ledger of ``items`` signed product records with their templates."""
    ledger = Ledger.create(path, LOG)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for start in range(0, items, BATCH):
        batch = []
        for i in range(start, min(start + BATCH, items)):
            template = hashlib.sha256(i.to_bytes(8, "big")).digest() * (TEMPLATE_SIZE // 32)
            record = ProductRecord(
                gtin=GTIN, serial=f"S{i:07d}", batch=f"B{i // 1000}", sku="SKU-1",
                scheme="hallmark-lbp", scheme_version=1,
                template_sha256=hashlib.sha256(template).digest(), template_size=len(template),
                region=Region(x=0.0, y=0.0, width=10.0, height=10.0), hologram_sha256=None,
                manufacturer=MAKER.key_id, time=now,
            )  # fmt: skip
            envelope = MAKER.sign(record).format()
            batch.append(NewEntry(data=envelope, keys=entry_keys(record), blobs=[template]))
        ledger.append(batch)
    return ledger


def reference_root(leaf: bytes, m: int, n: int, path: Sequence[bytes]) -> bytes:
    """RFC 6962 §2.1.1 ``PATH(m, D[n])`` folded back to the root, by the recursion itself."""
    if n == 1:
        if path:
            raise ValueError("proof too long")
        return leaf
    k = 1 << ((n - 1).bit_length() - 1)
    *rest, last = path
    if m < k:
        return hashlib.sha256(b"\x01" + reference_root(leaf, m, k, rest) + last).digest()
    return hashlib.sha256(b"\x01" + last + reference_root(leaf, m - k, n - k, rest)).digest()


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000, help="items for the references")
    args = parser.parse_args()
    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        root = Path(tmp)
        seconds, ledger_obj = timed(lambda: build_ledger(root / "log", args.items))
        rows.append(("setup: build ledger (batched appends)", args.items, seconds))
        assert isinstance(ledger_obj, Ledger)
        selection = Selection(kind=SelectionKind.MANUFACTURER, values=(MAKER.key_id.format(),))
        with ledger_obj as ledger:
            export = partial(
                export_bundle,
                ledger,
                root / "all.hmb",
                selection,
                policy=POLICY,
                signer=LOG,
                expires=timedelta(days=30),
            )
            seconds, _ = timed(export)
        rows.append(("export_bundle (select, check, write, fsync)", args.items, seconds))
        size = (root / "all.hmb").stat().st_size
        seconds, bundle = timed(lambda: open_bundle(root / "all.hmb", POLICY))
        rows.append(("open_bundle: full offline verification", args.items, seconds))

        assert isinstance(bundle, Bundle)
        tree = bundle.checkpoint.checkpoint
        sample = range(0, args.items, max(1, args.items // args.sample))

        def reference() -> None:
            for i in sample:
                data = bundle.log.entry(i)
                proof = bundle.log.inclusion_proof(i)
                if reference_root(leaf_hash(data), i, tree.size, proof) != tree.root_hash:
                    raise AssertionError(f"reference rejects entry {i}")
                SignedEnvelope.parse(data).open(POLICY.manufacturers)

        seconds, _ = timed(reference)
        rows.append(
            ("reference: per-item tile proof, recursive RFC 6962, sig", len(sample), seconds)
        )
        registry = BundleRegistry(bundle, Outbox(os.devnull))
        seconds, _ = timed(
            lambda: [registry.lookup(ItemId(gtin=GTIN, serial=f"S{i:07d}")) for i in sample]
        )
        rows.append(("BundleRegistry.lookup (verify_lookup per item)", len(sample), seconds))

    print(f"bundle: {args.items:,} items, {size / 1e6:.1f} MB, cores: {os.cpu_count()}")
    print(f"{'phase':<58}{'items':>9}{'seconds':>10}{'items/s':>11}{'100k est. s':>13}")
    for name, count, secs in rows:
        print(
            f"{name:<58}{count:>9,}{secs:>10.2f}{count / secs:>11,.0f}"
            f"{secs * 100_000 / count:>13.1f}"
        )


if __name__ == "__main__":
    main()
