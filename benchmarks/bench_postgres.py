"""PostgreSQL append throughput against the folder ledger's, in the same run.

Run: ``.venv/bin/python benchmarks/bench_postgres.py`` (needs PostgreSQL's server
programs; a throwaway, durable — fsync on — cluster on 127.0.0.1 is made and deleted).
Signed product records with 512-byte templates are appended in batches of 256 (the
sequencer's largest batch): once as pre-admitted entries (`append` alone: tiles,
index, blobs, checkpoint), and once through admission (signatures, key events,
duplicate check) as the server's sequencer does. The issue's target is 5,000
records/s batched on PostgreSQL; the folder figure is the reference.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "registry_server"))
from _table import print_table
from registry_samples import ledger, manufacturer, product

from registry_client.embedded import EmbeddedRegistry
from registry_client.ledger import NewEntry
from registry_client.records import ProductRecord, SignedEnvelope, parse_record
from registry_client.registry import entry_keys
from registry_server.postgres import open_store
from registry_server.postgres.cluster import remove, start_cluster

RECORDS = 20_000
BATCH = 256


def _rate(
    registry: EmbeddedRegistry, records: list[tuple[SignedEnvelope, bytes]], admit: bool
) -> float:
    """Records/s appended in batches of `BATCH`, admitted first when ``admit``."""
    prepared = [] if admit else [_entry(e, t) for e, t in records]  # outside the timing
    start = time.perf_counter()
    for i in range(0, len(records), BATCH):
        chunk = records[i : i + BATCH]
        if admit:
            admitted = registry.admit_products(chunk)
            entries = [e for e in admitted if isinstance(e, NewEntry)]
            assert len(entries) == len(chunk), "every record is admitted"
        else:
            entries = prepared[i : i + BATCH]
        registry.append(entries)
    return len(records) / (time.perf_counter() - start)


def _entry(envelope: SignedEnvelope, template: bytes) -> NewEntry:
    """A product record's entry as admission makes it (`registry.entry_keys`)."""
    record = parse_record(envelope.payload)
    assert isinstance(record, ProductRecord)
    return NewEntry(data=envelope.format(), keys=entry_keys(record), blobs=(template,))


def main() -> None:
    cluster = start_cluster(durable=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            maker = manufacturer()
            rows: list[tuple[str, str, str]] = []
            figures: dict[tuple[str, bool], float] = {}
            for name in ("folder", "postgresql"):
                ledger(root / name, maker)
                if name == "folder":
                    store = EmbeddedRegistry.open(root / name, root / f"{name}-state")
                else:
                    dsn = cluster.create_database("bench")
                    store = open_store(dsn, root / name, root / f"{name}-state")
                for admit in (False, True):
                    tag = "A" if admit else "P"
                    records = [product(maker, f"{tag}{i:06d}") for i in range(RECORDS)]
                    figures[name, admit] = _rate(store, records, admit)
                store.close()
            for admit in (False, True):
                how = "admitted + appended" if admit else "appended (pre-admitted)"
                folder, pg = figures["folder", admit], figures["postgresql", admit]
                rows.append((f"folder ledger, {how}", f"{folder:,.0f}/s", "1.00×"))
                rows.append((f"PostgreSQL, {how}", f"{pg:,.0f}/s", f"{pg / folder:.2f}× folder"))
            print(f"{RECORDS:,} product records per figure, batches of {BATCH}, fsync on\n")
            print_table(("", "records/s", "vs folder"), rows)
    finally:
        cluster.stop()
        remove(cluster)


if __name__ == "__main__":
    main()
