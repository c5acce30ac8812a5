"""Load: retail clients look up and verify while a production line enrols, per backend.

Run: ``.venv/bin/python benchmarks/load.py [--clients 4] [--lookups 40] [--enrol 400]``
(loopback only; PostgreSQL needs its server programs, a throwaway cluster is made).

For each backend (the folder ledger, then PostgreSQL) a registry server starts on
127.0.0.1 with ``--preload`` items already logged. Then, at once:

- ``--clients`` retail client processes each do ``--lookups`` rounds of a verified
  lookup (`HttpRegistry.lookup`: checkpoint, inclusion proofs, signature, template
  hash) of a random preloaded item, then log a device-signed verification event;
- one line process enrols ``--enrol`` new items from 8 threads (the server batches them).

Every process stops at ``--time-limit`` seconds. Reported per backend: throughput and
p50/p99 latency of lookups, events and enrolments, and errors (any exception, refusal
or queued event). Afterwards nothing may be lost: every acknowledged leaf holds what
was sent (each enrolled item is looked up and proven at the leaf it was given), the tree
size is the preload plus every acknowledged append, and a full audit (`audit`: every
tile and the root recomputed from the entries) passes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "registry_server"))
from _table import print_table
from registry_samples import event, item, ledger, manufacturer, product

from registry_client.client import HttpRegistry
from registry_client.embedded import EmbeddedRegistry, read_policy
from registry_client.ledger import NewEntry
from registry_client.records import Signer, generate_key
from registry_server.app import Limits
from registry_server.postgres.cluster import Cluster, NoPostgres, remove, start_cluster
from registry_server.serve import RegistryServer

UNLIMITED = Limits(read_rate=1e9, read_burst=1e9, write_rate=1e9, write_burst=1e9)
"""All traffic comes from 127.0.0.1: per-IP rate limits would throttle the test itself."""


@dataclass
class Outcome:
    """What one process did: latencies per kind, errors, and the leaves it was given."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    leaves: dict[str, int] = field(default_factory=dict)

    def timed(self, kind: str, start: float) -> None:
        self.seconds.setdefault(kind, []).append(time.perf_counter() - start)


def _client(
    n: int, folder: Path, urls: Queue[str], out: Queue[Outcome], lookups: int, limit: float
) -> None:
    url = urls.get()
    deadline = time.monotonic() + limit
    device = generate_key(f"scanner-{n}")
    preloaded = (folder.parent / "preloaded").read_text().split()
    registry = HttpRegistry(url, read_policy(folder / "policy"), folder.parent / f"client{n}")
    outcome, rng = Outcome(), random.Random(n)
    for _ in range(lookups):
        if time.monotonic() > deadline:
            break
        serial = rng.choice(preloaded)
        try:
            start = time.perf_counter()
            registry.lookup(item(serial))
            outcome.timed("lookup", start)
            start = time.perf_counter()
            if registry.append_event(event(device, serial)) is None:
                raise RuntimeError("event queued: the server did not take it")
            outcome.timed("event", start)
        except Exception as exc:  # every failure is counted, none stops the run
            outcome.errors.append(f"{serial}: {exc}")
    registry.close()
    out.put(outcome)


def _line(
    maker: Signer, folder: Path, urls: Queue[str], out: Queue[Outcome], count: int, limit: float
) -> None:
    url = urls.get()
    deadline = time.monotonic() + limit
    registry = HttpRegistry(url, read_policy(folder / "policy"), folder.parent / "line")
    outcome = Outcome()

    def enrol(serial: str) -> None:
        if time.monotonic() > deadline:
            return
        try:
            start = time.perf_counter()
            outcome.leaves[serial] = registry.register(*product(maker, serial))
            outcome.timed("enrol", start)
        except Exception as exc:
            outcome.errors.append(f"{serial}: {exc}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(enrol, (f"L{i:06d}" for i in range(count))))
    registry.close()
    out.put(outcome)


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def _run(backend: str, root: Path, cluster: Cluster | None, args: argparse.Namespace) -> list[str]:
    folder = root / backend / "ledger"
    maker = manufacturer()
    ledger(folder, maker)
    database = None if cluster is None else cluster.create_database(f"load_{backend}")
    serials = [f"P{i:06d}" for i in range(args.preload)]
    (folder.parent / "preloaded").write_text("\n".join(serials))
    store = (
        EmbeddedRegistry.open(folder, root / backend / "state")
        if database is None
        else _pg_store(database, folder, root / backend / "state")
    )
    admitted = store.admit_products([product(maker, s) for s in serials])
    store.append([e for e in admitted if isinstance(e, NewEntry)])
    store.close()

    # Children fork before the server's threads and pool exist; they wait for its URL.
    context = multiprocessing.get_context("fork")
    urls: Queue[str] = context.Queue()
    out: Queue[Outcome] = context.Queue()
    children = [
        context.Process(target=_client, args=(n, folder, urls, out, args.lookups, args.time_limit))
        for n in range(args.clients)
    ]
    children.append(
        context.Process(target=_line, args=(maker, folder, urls, out, args.enrol, args.time_limit))
    )
    for child in children:
        child.start()
    server = RegistryServer(folder, limits=UNLIMITED, database=database, state_dir=root / backend)
    url = server.start()
    try:
        start = time.perf_counter()
        for _ in children:
            urls.put(url)
        outcomes = [out.get(timeout=args.time_limit + 120) for _ in children]
        wall = time.perf_counter() - start
        for child in children:
            child.join()
        lost = _lost(url, folder, outcomes, args.preload)
    finally:
        server.stop()
    seconds: dict[str, list[float]] = {}
    for outcome in outcomes:
        for kind, values in outcome.seconds.items():
            seconds.setdefault(kind, []).extend(values)
    errors = [e for o in outcomes for e in o.errors]
    for error in errors[:5]:
        print(f"  {backend} error: {error}")
    cells = [backend]
    for kind in ("lookup", "event", "enrol"):
        values = seconds.get(kind, [])
        if values:
            cells.append(
                f"{len(values) / wall:,.0f}/s · {_pct(values, 50) * 1e3:.0f} / "
                f"{_pct(values, 99) * 1e3:.0f} ms"
            )
        else:
            cells.append("none")
    return [*cells, str(len(errors)), str(lost)]


def _pg_store(database: str, folder: Path, state: Path) -> EmbeddedRegistry:
    from registry_server.postgres import open_store

    return open_store(database, folder, state)


def _lost(url: str, folder: Path, outcomes: list[Outcome], preload: int) -> int:
    """Acknowledged appends not in the log: enrolled items not proven at their leaf,
    plus any shortfall of the tree size. A full audit must pass too."""
    registry = HttpRegistry(url, read_policy(folder / "policy"), folder.parent / "auditor")
    try:
        report = registry.audit()
        enrolled = {s: leaf for o in outcomes for s, leaf in o.leaves.items()}
        missing = sum(registry.lookup(item(s)).leaf_index != leaf for s, leaf in enrolled.items())
        events = sum(len(o.seconds.get("event", [])) for o in outcomes)
        return missing + max(0, preload + len(enrolled) + events - report.checkpoint.size)
    finally:
        registry.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="retail client processes")
    parser.add_argument("--lookups", type=int, default=40, help="lookup + event rounds each")
    parser.add_argument("--enrol", type=int, default=400, help="items the line enrols")
    parser.add_argument("--preload", type=int, default=500, help="items logged beforehand")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per process")
    args = parser.parse_args()
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows.append(_run("folder", root, None, args))
        try:
            cluster = start_cluster(durable=True)
        except NoPostgres as exc:
            print(f"PostgreSQL skipped: {exc}")
        else:
            try:
                rows.append(_run("postgresql", root, cluster, args))
            finally:
                cluster.stop()
                remove(cluster)
    print(
        f"\n{args.clients} retail clients × {args.lookups} lookups + events, "
        f"a line enrolling {args.enrol}, {args.preload} items preloaded; "
        "each cell: throughput · p50 / p99\n"
    )
    print_table(("backend", "verified lookup", "event", "enrol", "errors", "lost"), rows)


if __name__ == "__main__":
    main()
