"""`hallmark compare` on 10,000 pairs of 1.2 MP captures: issue 2's "in minutes on 2 cores".

The pairs come from a dataset written by `hallmark synth` (1280 × 960 JPEG captures):
each genuine capture against its item's enrolment, then genuine captures against other
items' enrolments, in a fixed order, until ``--pairs``. `compare_pairs` runs as the CLI
runs it (every core, progress bars on stderr), fingerprinting each distinct image once.
The reference is the plain per-pair way on the same pairs: both images of a pair read
and fingerprinted for every pair, then matched; it is timed on a sample of pairs on one
core in this run and scaled to all the pairs on every core. Nothing is asserted.

Run (the dataset once, about half an hour):
``.venv/bin/hallmark synth runs/test --items 20 --captures 5 --seed 200`` then
``.venv/bin/python benchmarks/bench_compare.py runs/test [--pairs 10000]``
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from _table import print_table

import fingerprint
from app.flows.compare import compare_pairs

SAMPLE = 40
"""Pairs the per-pair reference is timed on."""


def dataset_pairs(dataset: Path, count: int) -> list[tuple[Path, Path]]:
    """Genuine pairs first, then other-item pairs, as absolute paths."""
    with (dataset / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    enrol = {r["item_id"]: dataset / r["path"] for r in rows if r["role"] == "enrol"}
    genuine = [(r["item_id"], dataset / r["path"]) for r in rows if r["role"] == "genuine"]
    pairs = [(enrol[item], path) for item, path in genuine if item in enrol]
    others = (
        (enrol[other], path)
        for other, (item, path) in itertools.product(sorted(enrol), genuine)
        if other != item
    )
    pairs.extend(itertools.islice(others, max(0, count - len(pairs))))
    if len(pairs) < count:
        raise SystemExit(f"{dataset} gives only {len(pairs)} pairs; make more items")
    return [(a.resolve(), b.resolve()) for a, b in pairs[:count]]


def per_pair_seconds(pairs: list[tuple[Path, Path]]) -> float:
    """Seconds one core takes per pair fingerprinting both images every time."""
    start = time.perf_counter()
    for reference, probe in pairs:
        fingerprint.match(fingerprint.extract(reference), fingerprint.extract(probe))
    return (time.perf_counter() - start) / len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a folder written by hallmark synth")
    parser.add_argument("--pairs", type=int, default=10_000)
    args = parser.parse_args()
    pairs = dataset_pairs(args.dataset, args.pairs)
    images = len({path for pair in pairs for path in pair})
    cores = os.cpu_count() or 1

    fingerprint.match(fingerprint.extract(pairs[0][0]), fingerprint.extract(pairs[0][1]))  # JIT
    sample = pairs[:: max(1, len(pairs) // SAMPLE)][:SAMPLE]
    reference = per_pair_seconds(sample) * len(pairs) / cores

    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "pairs.csv"
        with table.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(("reference", "probe"))
            writer.writerows(pairs)
        start = time.perf_counter()
        scores = compare_pairs(table)
        seconds = time.perf_counter() - start
    errors = sum(s.decision == "error" for s in scores)

    load = os.getloadavg()[0]
    print(f"{len(pairs):,} pairs over {images:,} distinct images; {cores} cores; load {load:.1f}")
    print_table(
        ("", "seconds", "pairs/s", "vs reference"),
        [
            (
                f"per-pair reference (est. from {len(sample)} pairs)",
                f"{reference:,.0f}",
                f"{len(pairs) / reference:,.1f}",
                "1.0×",
            ),
            (
                "hallmark compare",
                f"{seconds:,.0f}",
                f"{len(pairs) / seconds:,.1f}",
                f"{reference / seconds:.1f}×",
            ),
        ],
    )
    print(f"pairs that could not be scored: {errors}")


if __name__ == "__main__":
    main()
