"""Commitment items and template items on one embedded ledger, enrolled and verified."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.flows.commitment import SCHEME, enrol_commitment
from app.flows.commitment_eval import evaluate, table
from app.flows.enrol import EnrolRefused, enrol, prepare_record, register
from app.flows.verify import Outcome, verify
from fingerprint.commitment import Commitment, CommitmentFormatError, CopyParams
from fingerprint.gs1 import parse
from fingerprint.locate import read_code
from fingerprint.synth import Material, Tier, capture, make_item, write_dataset
from fingerprint.synth.attacks import print_copy
from fingerprint.template import SCHEME as TEMPLATE_SCHEME
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.note import SignerKey
from registry_client.records import Signer, generate_key


@dataclass(frozen=True)
class Shots:
    committed: list[np.ndarray]  # two enrolment captures of item 0
    committed_again: np.ndarray
    templated: np.ndarray  # item 1, enrolled with a template
    templated_again: np.ndarray


@pytest.fixture(scope="module")
def shots() -> Shots:
    rng = np.random.default_rng(8)  # the item of tests/fingerprint/commitment/conftest.py
    item, other = make_item(rng, Material.PHOTO, 0), make_item(rng, Material.PHOTO, 1)
    committed = [capture(item, rng, Tier.EASY), capture(item, rng, Tier.EASY)]
    again = capture(item, rng, Tier.EASY)
    templated = capture(other, rng, Tier.EASY)
    return Shots(committed, again, templated, capture(other, rng, Tier.EASY))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[tuple[EmbeddedRegistry, Signer]]:
    maker = generate_key("acme.example")
    policy = create_ledger(
        tmp_path / "ledger", SignerKey.generate("test.log"), manufacturers=(maker.verifier,)
    )
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state", policy)
    yield registry, maker
    registry.close()


def test_mixed_ledger_enrols_and_verifies_both_schemes(
    shots: Shots, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    committed = enrol_commitment(shots.committed, signer=maker, registry=registry)
    templated = enrol(shots.templated, signer=maker, registry=registry)
    assert committed.proven.record.scheme == SCHEME
    assert templated.proven.record.scheme == TEMPLATE_SCHEME
    blob = committed.proven.template
    assert Commitment.from_bytes(blob).digest() == committed.template_sha256.hex()

    genuine = verify(shots.committed_again, registry=registry)
    assert genuine.outcome is Outcome.GENUINE and genuine.match is None
    assert genuine.judgement is not None and genuine.judgement.opening is not None
    assert genuine.judgement.opening.opened and genuine.judgement.copy is not None
    other = verify(shots.templated_again, registry=registry)
    assert other.outcome is Outcome.GENUINE and other.judgement is None

    item = committed.proven.record.item  # item 1's surface claiming to be item 0
    claimed = verify(shots.templated_again, registry=registry, serial=item.serial)
    assert claimed.outcome is Outcome.COUNTERFEIT
    assert claimed.judgement is not None and claimed.judgement.opening is not None
    assert not claimed.judgement.opening.opened


def test_a_print_copy_that_opens_the_commitment_is_a_counterfeit(
    shots: Shots, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    enrol_commitment(shots.committed, signer=maker, registry=registry)
    rng = np.random.default_rng(0)
    item = make_item(np.random.default_rng(8), Material.PHOTO, 0)  # the committed item
    copy = capture(print_copy(item, rng), rng, Tier.EASY)
    result = verify(copy, registry=registry)
    judged = result.judgement
    assert judged is not None and judged.opening is not None and judged.opening.opened
    assert result.outcome is Outcome.COUNTERFEIT
    assert judged.copy is not None and judged.copy.flipped > 5 and judged.copy.screen_peak > 20
    assert judged.copy_score is not None and judged.copy_score < CopyParams().counterfeit_below


def test_blurred_capture_is_a_retake_not_a_counterfeit(
    shots: Shots, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    item = enrol_commitment(shots.committed, signer=maker, registry=registry).proven.record.item
    blurred = cv2.GaussianBlur(shots.committed_again, (0, 0), 4.0)
    result = verify(blurred, registry=registry, gtin=item.gtin, serial=item.serial)
    assert result.outcome is Outcome.RETAKE
    assert result.judgement is not None and result.judgement.issues


def test_an_item_committed_in_format_version_1_fails_with_the_reason(
    shots: Shots, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    old = Path(__file__).parents[1] / "fingerprint/commitment/data/commitment_v1.bin"
    code = read_code(cv2.cvtColor(shots.committed[0], cv2.COLOR_BGR2GRAY))
    assert code is not None
    prepared = prepare_record(
        code.text, old.read_bytes(), scheme=SCHEME, scheme_version=1, signer=maker
    )
    register(prepared, registry)
    with pytest.raises(CommitmentFormatError, match=r"version 1 .*re-enrol the item"):
        verify(shots.committed_again, registry=registry)


def test_enrolment_refuses_captures_of_two_items(
    shots: Shots, ledger: tuple[EmbeddedRegistry, Signer]
) -> None:
    registry, maker = ledger
    with pytest.raises(EnrolRefused, match="different codes"):
        enrol_commitment([shots.committed[0], shots.templated], signer=maker, registry=registry)
    with pytest.raises(EnrolRefused, match="at least one"):
        enrol_commitment([], signer=maker, registry=registry)
    gtin = parse(make_item(np.random.default_rng(0), Material.PHOTO, 0).gs1).gtin
    with pytest.raises(EnrolRefused, match="--serial says"):
        enrol_commitment(shots.committed, signer=maker, registry=registry, serial="X1", gtin=gtin)


def test_evaluation_counts_every_probe(tmp_path: Path) -> None:
    write_dataset(
        tmp_path,
        items_per_material=2,
        captures_per_item=2,
        tier=Tier.EASY,
        seed=5,
        materials=(Material.PHOTO,),
    )
    report = evaluate(tmp_path, (1, 2), fit=True)  # the copy check fitted to these probes
    for row in report.rows:  # probes: genuine-01 of each item; impostors: the other item
        assert row.enrolled == 2 and row.genuine.tried == 2 and row.other_items.tried == 2
        assert row.other_items.opened == 0 and row.copied_serial.tried == 2
        assert row.print_copy.tried == 2 and row.print_copy.accepted <= row.print_copy.opened
        assert [m for m, _ in row.print_copy_by_material] == [Material.PHOTO]
        assert row.genuine.accepted == 2 and row.print_copy.accepted == 0  # in the fit's gap
    assert report.copy.counterfeit_below < report.copy.genuine_at
    assert 0.2 < report.entropy.other_bits.mean < 0.8
    assert "| 2 | 2 |" in table(report)
    with pytest.raises(ValueError, match="needs at least 3"):
        evaluate(tmp_path, (3,))
