"""A hologram on the ledger: enrolled as a second blob, matched at verification."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from app.flows.enrol import EnrolRefused, enrol, prepare
from app.flows.hologram import analyse_enrolled
from app.flows.verify import NoHologramError, Outcome, combine, verify
from fingerprint.hologram import HologramReason, HologramTemplate, extract_hologram
from fingerprint.synth import Material, Tier, capture
from fingerprint.synth.hologram import HologramItem, make_hologram_item
from fingerprint.synth.hologram_attacks import printed_copy
from fingerprint.synth.hologram_capture import burst
from fingerprint.synth.items import build_item
from registry_client.bundle import Selection, SelectionKind, export_bundle, open_bundle
from registry_client.bundle_offline import BundleRegistry, Outbox
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.errors import RecordFormatError
from registry_client.item import ItemId
from registry_client.ledger import Ledger
from registry_client.note import SignerKey
from registry_client.records import Signer, generate_key
from registry_client.registry import NotRegisteredError, TemplateMismatchError, verify_lookup

SIZE = (480, 360)
FRAMES = 12


@dataclass(frozen=True)
class Sample:
    """One item: two stills of its label, its enrolment, genuine and printed-copy bursts."""

    enrol_image: NDArray[np.uint8]
    live_image: NDArray[np.uint8]
    enrol: HologramTemplate
    genuine: HologramTemplate
    printed: HologramTemplate


@pytest.fixture(scope="module")
def sample() -> Sample:
    rng = np.random.default_rng(55)
    holo = make_hologram_item(rng, 3)
    label = build_item(rng, material=Material.PAPER, gs1=holo.gs1, item_id="label")

    def shoot(subject: HologramItem, tier: Tier = Tier.MEDIUM) -> HologramTemplate:
        return extract_hologram(burst(subject, rng, frames=FRAMES, tier=tier, size=SIZE))

    return Sample(
        enrol_image=capture(label, rng, Tier.EASY),
        live_image=capture(label, rng, Tier.EASY),
        enrol=shoot(holo, Tier.EASY),
        genuine=shoot(holo, Tier.EASY),
        printed=shoot(printed_copy(holo, rng)),
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[tuple[EmbeddedRegistry, Signer]]:
    maker = generate_key("acme.example")
    policy = create_ledger(
        tmp_path / "ledger", SignerKey.generate("test.log"), manufacturers=(maker.verifier,)
    )
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state", policy)
    yield registry, maker
    registry.close()


def test_enrolled_hologram_is_matched_at_verification(
    sample: Sample, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    done = enrol(sample.enrol_image, signer=maker, registry=registry, hologram=sample.enrol)
    assert done.proven.record.hologram_sha256 == bytes.fromhex(sample.enrol.digest())
    assert done.proven.hologram == sample.enrol.to_bytes()

    genuine = verify(sample.live_image, registry=registry, hologram=sample.genuine)
    assert genuine.hologram is not None and genuine.hologram.decision.value == "genuine"
    assert genuine.outcome is Outcome.GENUINE

    printed = verify(sample.live_image, registry=registry, hologram=sample.printed)
    assert printed.hologram is not None
    assert {HologramReason.STATIC_COLOURS, HologramReason.SCREEN} & set(printed.hologram.reasons)
    assert printed.outcome is Outcome.COUNTERFEIT

    without = verify(sample.live_image, registry=registry)
    assert without.hologram is None and without.outcome is Outcome.GENUINE


def test_a_burst_for_an_item_enrolled_without_hologram_is_refused(
    sample: Sample, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    enrol(sample.enrol_image, signer=maker, registry=registry)
    with pytest.raises(NoHologramError, match="enrolled without a hologram"):
        verify(sample.live_image, registry=registry, hologram=sample.genuine)


def test_a_burst_is_matched_against_the_item_its_code_names(
    sample: Sample, ledger: tuple[EmbeddedRegistry, Signer], tmp_path: Path
) -> None:
    registry, maker = ledger
    done = enrol(sample.enrol_image, signer=maker, registry=registry, hologram=sample.enrol)
    live = tmp_path / "live.hmh"
    live.write_bytes(sample.genuine.to_bytes())
    result = analyse_enrolled(live, registry)
    assert result.item == done.proven.record.item
    assert result.verdict is not None and result.verdict.decision.value == "genuine"
    with pytest.raises(NotRegisteredError):
        analyse_enrolled(live, registry, "SN-OTHER")


def test_a_printed_copy_is_not_enrolled(
    sample: Sample, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    with pytest.raises(EnrolRefused, match="hologram burst is not live"):
        enrol(sample.enrol_image, signer=maker, registry=registry, hologram=sample.printed)


def test_the_registry_wants_the_hologram_blob_the_record_names(
    sample: Sample, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    prepared = prepare(sample.enrol_image, signer=maker, hologram=sample.enrol)
    assert prepared.hologram is not None
    with pytest.raises(RecordFormatError, match="names a hologram template but none"):
        registry.register(prepared.envelope, prepared.blob)
    with pytest.raises(TemplateMismatchError, match="hologram template hashes"):
        registry.register(prepared.envelope, prepared.blob, prepared.hologram[:-1])
    plain = prepare(sample.enrol_image, signer=maker)
    with pytest.raises(RecordFormatError, match="record names none"):
        registry.register(plain.envelope, plain.blob, prepared.hologram)


class FlippedBlob:
    """A ledger whose blob ``sha256`` comes back with its last byte flipped."""

    def __init__(self, ledger: Ledger, sha256: bytes) -> None:
        self._ledger = ledger
        self._sha256 = sha256

    def find(self, kind: str, key: str) -> Sequence[int]:
        return self._ledger.find(kind, key)

    def entry(self, index: int) -> bytes:
        return self._ledger.entry(index)

    def inclusion_proof(self, index: int) -> Sequence[bytes]:
        return self._ledger.inclusion_proof(index)

    def blob(self, sha256: bytes) -> bytes:
        data = self._ledger.blob(sha256)
        return data[:-1] + bytes([data[-1] ^ 1]) if sha256 == self._sha256 else data


def test_a_tampered_hologram_blob_fails_the_lookup(
    sample: Sample, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    done = enrol(sample.enrol_image, signer=maker, registry=registry, hologram=sample.enrol)
    record = done.proven.record
    assert record.hologram_sha256 is not None
    checkpoint = registry.policy.verify_checkpoint(registry.ledger.checkpoint_note)
    log = FlippedBlob(registry.ledger, record.hologram_sha256)
    with pytest.raises(TemplateMismatchError, match="hologram template hashes to"):
        verify_lookup(
            ItemId(gtin=record.gtin, serial=record.serial), log, checkpoint, registry.policy
        )


@pytest.mark.parametrize(
    ("surface", "hologram", "combined"),
    [
        (Outcome.GENUINE, Outcome.GENUINE, Outcome.GENUINE),
        (Outcome.GENUINE, Outcome.COUNTERFEIT, Outcome.COUNTERFEIT),
        (Outcome.RETAKE, Outcome.COUNTERFEIT, Outcome.COUNTERFEIT),
        (Outcome.COUNTERFEIT, Outcome.GENUINE, Outcome.COUNTERFEIT),
        (Outcome.GENUINE, Outcome.RETAKE, Outcome.RETAKE),
        (Outcome.RETAKE, Outcome.GENUINE, Outcome.RETAKE),
    ],
)
def test_combined_outcome(surface: Outcome, hologram: Outcome, combined: Outcome) -> None:
    assert combine(surface, hologram) is combined


def test_a_bundle_carries_the_hologram_and_verifies_it_offline(
    sample: Sample, tmp_path: Path
) -> None:
    maker = generate_key("acme.example")
    policy = create_ledger(
        tmp_path / "ledger", SignerKey.generate("test.log"), manufacturers=(maker.verifier,)
    )
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state", policy)
    try:
        done = enrol(sample.enrol_image, signer=maker, registry=registry, hologram=sample.enrol)
    finally:
        registry.close()
    mine = Selection(kind=SelectionKind.MANUFACTURER, values=(maker.key_id.format(),))
    summary = export_bundle(
        tmp_path / "ledger", tmp_path / "b.hmb", mine, policy=policy, signer=maker.key,
        expires=timedelta(days=2),
    )  # fmt: skip
    offline = BundleRegistry(open_bundle(summary.path, policy), Outbox(tmp_path / "outbox"))
    assert offline.lookup(done.proven.record.item).hologram == sample.enrol.to_bytes()
    genuine = verify(sample.live_image, registry=offline, hologram=sample.genuine)
    assert genuine.outcome is Outcome.GENUINE
    printed = verify(sample.live_image, registry=offline, hologram=sample.printed)
    assert printed.outcome is Outcome.COUNTERFEIT
