"""Checkpoints (C2SP tlog-checkpoint) and their verification with witness quorums."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from registry_vectors import load

from registry_client.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    open_checkpoint,
    verify_checkpoint,
)
from registry_client.errors import CheckpointError, SignatureError
from registry_client.merkle import leaf_hash
from registry_client.note import KeyType, Note, SignerKey, VerifierKey

NOTES = load("notes/notes.json")
ROOT = "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="


def _case(case_id: str) -> dict[str, Any]:
    return next(c for c in NOTES["notes"] if c["id"] == case_id)


def test_go_tree_note_format() -> None:
    vector = NOTES["tree_note_format"]
    checkpoint = Checkpoint(
        origin="go.sum database tree",
        size=vector["size"],
        root_hash=leaf_hash(vector["record_hash_of"].encode()),
    )
    assert checkpoint.format() == vector["text"]
    assert Checkpoint.parse(vector["text"]) == checkpoint


def test_real_sum_golang_org_checkpoint() -> None:
    case = _case("sumdb-real-checkpoint")
    log = VerifierKey.parse(case["vkeys"][0])
    verified = verify_checkpoint(case["note"], log, origin="go.sum database tree")
    assert (verified.checkpoint.size, verified.log_key) == (6476701, log)
    with pytest.raises(CheckpointError, match="want 'sum.golang.org'"):
        verify_checkpoint(case["note"], log)


def test_real_rekor_v2_checkpoint() -> None:
    case = _case("rekor-v2-staging-checkpoint")
    verified = verify_checkpoint(case["note"], VerifierKey.parse(case["vkeys"][0]))
    assert verified.checkpoint.origin == "log2025-alpha1.rekor.sigstage.dev"
    assert verified.checkpoint.size == 646


def test_real_static_ct_checkpoint_with_a_witness_quorum() -> None:
    case = _case("arche-log-and-witness")
    log, witness = (VerifierKey.parse(v) for v in case["vkeys"])
    verified = verify_checkpoint(case["note"], log, [witness], quorum=1)
    assert verified.checkpoint.size == 1_432_088_532
    assert verified.witnesses == {witness}
    assert verified.cosignatures[0].timestamp is not None


def test_clobbered_static_ct_checkpoint_is_rejected() -> None:
    case = _case("arche-size-clobbered")
    log, witness = (VerifierKey.parse(v) for v in case["vkeys"])
    with pytest.raises(SignatureError, match="does not verify"):
        verify_checkpoint(case["note"], log, [witness], quorum=1)


def test_witness_cosignature_alone_is_not_a_log_signature() -> None:
    case = _case("arche-witness-cosig-v1")
    (witness,) = (VerifierKey.parse(v) for v in case["vkeys"])
    other_log = SignerKey.generate("arche2025h1.staging.ct.transparency.dev").verifier
    with pytest.raises(SignatureError, match="not signed by a log key"):
        open_checkpoint(case["note"], [other_log], [witness])


class _Log:
    """A throwaway log and witnesses for quorum tests."""

    def __init__(self, witnesses: int) -> None:
        self.key = SignerKey.generate("example.com/log")
        self.witnesses = [
            SignerKey.generate(f"example.com/w{i}", KeyType.COSIGNATURE_V1)
            for i in range(witnesses)
        ]
        self.checkpoint = Checkpoint(origin="example.com/log", size=3, root_hash=leaf_hash(b"x"))

    def note(self, cosigners: int) -> str:
        text = self.checkpoint.format()
        note = Note(text=text, signatures=(self.key.sign(text),))
        for w in self.witnesses[:cosigners]:
            note = note.with_signature(w.sign(text, timestamp=1_700_000_000))
        return note.format()

    @property
    def witness_keys(self) -> list[VerifierKey]:
        return [w.verifier for w in self.witnesses]


def test_quorum_counts_distinct_witnesses() -> None:
    log = _Log(witnesses=3)
    verified = verify_checkpoint(log.note(2), log.key.verifier, log.witness_keys, quorum=2)
    assert verified.checkpoint == log.checkpoint
    assert len(verified.witnesses) == 2
    with pytest.raises(CheckpointError, match="2 of 3 witnesses cosigned, want at least 3"):
        verify_checkpoint(log.note(2), log.key.verifier, log.witness_keys, quorum=3)


def test_verification_preconditions() -> None:
    log = _Log(witnesses=1)
    with pytest.raises(ValueError, match="quorum is 2, want 0 ≤ quorum ≤ 1"):
        verify_checkpoint(log.note(1), log.key.verifier, log.witness_keys, quorum=2)
    with pytest.raises(ValueError, match="want ED25519"):
        verify_checkpoint(log.note(1), log.witness_keys[0])
    with pytest.raises(ValueError, match="want COSIGNATURE_V1"):
        verify_checkpoint(log.note(1), log.key.verifier, [log.key.verifier])


def test_origin_must_match_the_log() -> None:
    log = _Log(witnesses=0)
    with pytest.raises(CheckpointError, match="origin 'example.com/log', want 'elsewhere'"):
        verify_checkpoint(log.note(0), log.key.verifier, origin="elsewhere")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"o\n1\n{ROOT}", "newline"),
        ("o\n1\n", "2 lines, want at least 3"),
        (f"o\n01\n{ROOT}\n", "leading zeros"),
        (f"o\n+1\n{ROOT}\n", "decimal"),
        (f"o\n 1\n{ROOT}\n", "decimal"),
        (f"o\n1_0\n{ROOT}\n", "decimal"),
        (f"o\n١\n{ROOT}\n", "decimal"),
        (f"o\n-1\n{ROOT}\n", "decimal"),
        (f"o\n{MAX_TREE_SIZE + 1}\n{ROOT}\n", "want 0 ≤ size"),
        (f"o\n{'9' * 5000}\n{ROOT}\n", "malformed"),
        ("o\n1\nAAAA\n", "3 bytes, want 32"),
        ("o\n1\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk\n", "base64"),
        (f"\n1\n{ROOT}\n", "origin line is empty"),
        (f"o\n1\n{ROOT}\n\n", "extension line is empty"),
        (f"o\n1\n{ROOT}\next\x7f\tx\n", "control character"),
    ],
)
def test_malformed_checkpoints_are_refused(text: str, reason: str) -> None:
    with pytest.raises(CheckpointError, match=reason):
        Checkpoint.parse(text)


line_st = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30
)


@given(
    origin=line_st,
    size=st.integers(0, MAX_TREE_SIZE),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(line_st, max_size=3).map(tuple),
)
def test_checkpoints_round_trip(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    checkpoint = Checkpoint(origin=origin, size=size, root_hash=root, extensions=extensions)
    assert Checkpoint.parse(checkpoint.format()) == checkpoint
