"""1:N identification on a ledger that also holds commitment items (not searchable)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.flows.commitment import enrol_commitment
from app.flows.enrol import enrol
from app.flows.identify import build_index
from fingerprint.synth import Material, Tier, capture, make_item
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.note import SignerKey
from registry_client.records import generate_key


def test_index_holds_the_template_items_and_skips_commitments(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    committed, templated = (make_item(rng, Material.PHOTO, n) for n in (0, 1))
    maker = generate_key("acme.example")
    policy = create_ledger(
        tmp_path / "ledger", SignerKey.generate("test.log"), manufacturers=(maker.verifier,)
    )
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state", policy)
    try:
        shots = [capture(committed, rng, Tier.EASY) for _ in range(2)]
        enrol_commitment(shots, signer=maker, registry=registry)
        enrolled = enrol(capture(templated, rng, Tier.EASY), signer=maker, registry=registry)
        index = build_index(registry)
    finally:
        registry.close()
    assert len(index) == 1
    (only,) = index.search(index.codes[0], k=5, radius=index.n_bits)
    assert only.label == enrolled.proven.record.item.format()
