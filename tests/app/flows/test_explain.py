"""Verify and explain: thresholds from the caller, one fingerprint per capture, and the
logged event kept."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

import fingerprint
from app.flows.certificate import issue
from app.flows.enrol import enrol
from app.flows.explain import verify_and_explain
from app.flows.verify import Outcome, verify
from fingerprint.params import MatchParams
from fingerprint.synth import Item, Material, Tier, capture, make_item
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.note import SignerKey
from registry_client.records import Signer, generate_key


@dataclass(frozen=True)
class Enrolled:
    registry: EmbeddedRegistry
    device: Signer
    item: Item
    rng: np.random.Generator


@pytest.fixture
def enrolled(tmp_path: Path) -> Iterator[Enrolled]:
    maker, device = generate_key("acme.example"), generate_key("counter")
    policy = create_ledger(
        tmp_path / "ledger", SignerKey.generate("test.log"), manufacturers=(maker.verifier,)
    )
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state", policy)
    rng = np.random.default_rng(3)
    item = make_item(rng, Material.PAPER, 80)
    enrol(capture(item, rng, Tier.EASY), signer=maker, registry=registry)
    yield Enrolled(registry, device, item, rng)
    registry.close()


def test_thresholds_decide_the_verdict_and_the_certificate_states_them(
    enrolled: Enrolled,
) -> None:
    image = capture(enrolled.item, enrolled.rng, Tier.EASY)
    fitted = verify(image, registry=enrolled.registry, device=enrolled.device)
    assert fitted.outcome is Outcome.GENUINE and fitted.match is not None
    strict = replace(MatchParams(), genuine_at=fitted.match.score + 1.0)
    checked = verify(image, registry=enrolled.registry, device=enrolled.device, params=strict)
    assert checked.outcome is Outcome.RETAKE and checked.params == strict
    cert = issue(checked, device=enrolled.device)
    assert cert.genuine_at == f"{strict.genuine_at:.2f}"
    assert cert.outcome is Outcome.RETAKE


def test_the_capture_is_fingerprinted_once_and_its_logged_event_kept(
    enrolled: Enrolled, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, device, item, rng = enrolled.registry, enrolled.device, enrolled.item, enrolled.rng
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
    verification = explained.verification
    assert len(calls) == 1 and explained.picture is not None
    assert verification.probe is not None and verification.event is not None
    assert verification.event_leaf is not None
    assert registry.ledger.entry(verification.event_leaf) == verification.event.format()
