"""Verify and explain: one fingerprint per capture, and the logged event kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fingerprint
from app.flows.enrol import enrol
from app.flows.explain import verify_and_explain
from fingerprint.synth import Material, Tier, capture, make_item
from registry_client.client import EmbeddedRegistry, create_ledger
from registry_client.note import SignerKey
from registry_client.records import generate_key


def test_the_capture_is_fingerprinted_once_and_its_logged_event_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    maker, device = generate_key("acme.example"), generate_key("counter")
    policy = create_ledger(
        tmp_path / "ledger", SignerKey.generate("test.log"), manufacturers=(maker.verifier,)
    )
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state", policy)
    rng = np.random.default_rng(3)
    item = make_item(rng, Material.PAPER, 80)
    enrol(capture(item, rng, Tier.EASY), signer=maker, registry=registry)
    calls: list[object] = []
    extract = fingerprint.extract

    def counted(*args: object, **kwargs: object) -> fingerprint.Template:
        calls.append(args)
        return extract(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fingerprint, "extract", counted)  # the name verify calls
    try:
        explained = verify_and_explain(
            capture(item, rng, Tier.EASY), registry=registry, device=device, place="Shop"
        )
    finally:
        monkeypatch.undo()
        registry.close()
    verification = explained.verification
    assert len(calls) == 1 and explained.picture is not None
    assert verification.probe is not None and verification.event is not None
    assert verification.event_leaf is not None
    assert registry.ledger.entry(verification.event_leaf) == verification.event.format()
