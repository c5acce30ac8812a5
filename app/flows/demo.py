"""``hallmark demo``: a tour of the engine on synthetic items, in under a minute.

Makes a small dataset, enrols each item from its enrolment capture, verifies a genuine
capture and each kind of counterfeit of the first item, then evaluates the whole set.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import fingerprint
from app.flows.evaluation import evaluate_dataset
from app.report import summary, write_report
from fingerprint.synth import Tier, read_manifest, write_dataset


def run_demo(out: Path, *, items_per_material: int, say: Callable[[str], None]) -> Path:
    """Run the demo into ``out``; return the HTML report's path."""
    dataset = out / "dataset"
    say(f"1. making {items_per_material} synthetic items per material in {dataset} ...")
    manifest = write_dataset(
        dataset,
        items_per_material=items_per_material,
        captures_per_item=2,
        tier=Tier.MEDIUM,
        seed=7,
    )
    rows = read_manifest(manifest)
    first = rows[0].item_id
    enrol_row = next(r for r in rows if r.item_id == first and r.role == "enrol")
    say(f"2. enrolling item {first} ({enrol_row.material}) from {enrol_row.path}")
    reference = fingerprint.extract(dataset / enrol_row.path)
    say(f"   template {reference.digest()[:16]}…, code {reference.code_text}")
    say("3. verifying captures that claim to be that item:")
    for row in rows:
        if row.target_item != first or row.role == "enrol":
            continue
        verdict = fingerprint.match(reference, fingerprint.extract(dataset / row.path))
        issues = "; ".join(i.reason.value for i in verdict.issues)
        say(
            f"   {row.role:<14} → {verdict.decision.value.upper():<11} "
            f"score {verdict.score:+7.2f}" + (f"  ({issues})" if issues else "")
        )
    say("4. evaluating every pair of the dataset ...")
    report = evaluate_dataset(dataset)
    paths = write_report(report, out / "report")
    say(summary(report))
    say(f"report: {paths['html'].resolve()}")
    return paths["html"]
