"""What the Ledger page reads to show a large log, against reading it all.

A ledger of N entries (default 100,000 signed product records) is browsed with
`app.flows.ledger_browse`:

- first screen: open the folder, verify the newest checkpoint (`size`) and describe the
  newest page of 256 entries, which is all the lazy table model reads before the table
  shows rows; the reference is an eager model that describes every entry first;
- scrolling: describe one page further down, on average;
- search: scan every entry for a serial, page by page (the page shows its progress),
  against the same scan in one call without pages.

Ratios are the reference's time over ours, in this process. Nothing is asserted.

Run: ``.venv/bin/python benchmarks/bench_ledger_browse.py [--entries N]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from _table import print_table

from app.flows.ledger_browse import PAGE, describe, open_view, rows, search, size
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.ledger import NewEntry
from registry_client.note import KeyType, SignerKey
from registry_client.records import ProductRecord, Region, Signer
from registry_client.registry import entry_keys

LOG = SignerKey(name="bench.example/log", key_type=KeyType.ED25519, seed=bytes(32))
MAKER = Signer(key=SignerKey(name="acme", key_type=KeyType.ED25519, seed=bytes(range(32))))
BATCH = 10_000


def _entry(n: int) -> NewEntry:
    template = hashlib.sha256(n.to_bytes(8, "big")).digest()
    record = ProductRecord(
        gtin="09506000134352",
        serial=f"SN{n:07d}",
        batch=f"B{n // 1000}",
        sku=None,
        scheme="hallmark-microtexture",
        scheme_version=1,
        template_sha256=hashlib.sha256(template).digest(),
        template_size=len(template),
        region=Region(x=4.0, y=0.0, width=22.0, height=22.0),
        hologram_sha256=None,
        manufacturer=MAKER.key_id,
        time=datetime(2026, 11, 25, tzinfo=UTC),
    )
    return NewEntry(data=MAKER.sign(record).format(), keys=entry_keys(record))


def _build(folder: Path, entries: int) -> None:
    policy = create_ledger(folder, LOG, manufacturers=(MAKER.verifier,))
    registry = EmbeddedRegistry.open(folder, folder.parent / "writer", policy)
    try:
        for start in range(0, entries, BATCH):
            registry.append([_entry(n) for n in range(start, min(start + BATCH, entries))])
    finally:
        registry.close()


def _timed(call: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ledger"
        start = time.perf_counter()
        _build(folder, args.entries)
        print(f"built a ledger of {args.entries:,} entries in {time.perf_counter() - start:.1f} s")
        state = Path(tmp) / "state"

        def first_screen() -> None:
            view = open_view(str(folder), None, state)
            try:
                n = size(view)
                rows(view, (n - 1) // PAGE * PAGE, n)
            finally:
                view.close()

        def eager() -> None:
            view = open_view(str(folder), None, state)
            try:
                n = size(view)
                for first in range(0, n, PAGE):
                    rows(view, first, min(first + PAGE, n))
            finally:
                view.close()

        view = open_view(str(folder), None, state)
        try:
            n = size(view)
            middle = (n // 2) - (n // 2) % PAGE
            one_page = _timed(lambda: rows(view, middle, middle + PAGE))
            paged = _timed(lambda: list(search(view, "SN0050000", threading.Event())), 1)
            whole = _timed(
                lambda: [describe(i, e) for i, e in enumerate(view.registry.ledger.entries(0, n))],
                1,
            )
        finally:
            view.close()
        lazy, full = _timed(first_screen), _timed(eager, 1)

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print_table(
        ("operation", "reference", "ours", "ratio"),
        [
            (
                f"table shows {args.entries:,} entries",
                f"eager: describe all, {full * 1000:,.0f} ms",
                f"lazy: newest page, {lazy * 1000:,.1f} ms",
                f"{full / lazy:,.0f}×",
            ),
            ("scroll to another page", "—", f"{one_page * 1000:,.1f} ms per 256 rows", ""),
            (
                "search every entry",
                f"one call, {whole * 1000:,.0f} ms",
                f"page by page with progress, {paged * 1000:,.0f} ms",
                f"{whole / paged:.2f}×",
            ),
        ],
    )


if __name__ == "__main__":
    main()
