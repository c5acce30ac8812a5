"""``hallmark demo``: the whole job on the embedded default, in about a minute.

Makes a small synthetic dataset, a manufacturer key and a local ledger; enrols every
item from its enrolment capture (fingerprint, sign, register, prove); verifies a
genuine capture and each kind of counterfeit of the first item against the ledger;
then evaluates every pair of the dataset and writes the report.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from app.flows.enrol import enrol
from app.flows.evaluation import evaluate_dataset
from app.flows.verify import verify
from app.report import summary, write_report
from fingerprint.synth import Tier, read_manifest, write_dataset
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.note import SignerKey
from registry_client.records import Signer

MARKER = ".hallmark-demo"


class DemoFolderInUse(ValueError):
    """The output folder holds something other than an earlier demo."""


def run_demo(out: Path, *, items_per_material: int, say: Callable[[str], None]) -> Path:
    """Run the demo into ``out`` (replacing an earlier demo there); return the report path."""
    _fresh(out)
    dataset = out / "dataset"
    say(f"1. making {items_per_material} synthetic items per material in {dataset} ...")
    rows = read_manifest(
        write_dataset(
            dataset,
            items_per_material=items_per_material,
            captures_per_item=2,
            tier=Tier.MEDIUM,
            seed=7,
        )
    )
    manufacturer = Signer(key=SignerKey.generate("demo-manufacturer"))
    ledger = out / "ledger"
    policy = create_ledger(
        ledger, SignerKey.generate("hallmark-demo-log"), manufacturers=(manufacturer.verifier,)
    )
    registry = EmbeddedRegistry.open(ledger, out / "state", policy)
    try:
        enrolments = [r for r in rows if r.role == "enrol"]
        say(f"2. enrolling {len(enrolments)} items on the local ledger {ledger} ...")
        for row in enrolments:
            enrol(dataset / row.path, signer=manufacturer, registry=registry)
        checkpoint = registry.checkpoint()
        say(f"   checkpoint: {checkpoint.size} entries, root {checkpoint.root_hash.hex()[:16]}…")
        first = enrolments[0].item_id
        say(f"3. verifying captures that claim to be item {first} ({enrolments[0].material}):")
        for row in rows:
            if row.target_item != first or row.role == "enrol":
                continue
            result = verify(dataset / row.path, registry=registry)
            score = f"score {result.match.score:+7.2f}" if result.match else ""
            issues = "; ".join(i.reason.value for i in result.match.issues) if result.match else ""
            say(
                f"   {row.role:<14} → {result.outcome.value.upper():<11} {score}"
                + (f"  ({issues})" if issues else "")
            )
    finally:
        registry.close()
    say("4. evaluating every pair of the dataset ...")
    report = evaluate_dataset(dataset)
    paths = write_report(report, out / "report")
    say(summary(report))
    say(f"report: {paths['html'].resolve()}")
    return paths["html"]


def _fresh(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise DemoFolderInUse(
                f"{out} is not empty and holds no earlier demo; pick another --out"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).touch()
