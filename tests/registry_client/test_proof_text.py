"""c2sp.org/tlog-proof@v1 text: round trips, verification, and any flipped byte rejected."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_client.checkpoint import Checkpoint
from registry_client.errors import (
    CheckpointError,
    ProofError,
    RecordFormatError,
    SignatureError,
    VerificationError,
)
from registry_client.merkle import MerkleTree, leaf_hash
from registry_client.note import KeyType, Note, SignerKey
from registry_client.policy import Log, TrustPolicy, Witness
from registry_client.proof_text import HEADER, TlogProof, format_proof, parse_proof, verify_proof

LOG = SignerKey(name="proof.test/log", key_type=KeyType.ED25519, seed=bytes(range(32)))
WITNESS = SignerKey(name="w.test", key_type=KeyType.COSIGNATURE_V1, seed=bytes(range(5, 37)))
POLICY = TrustPolicy(logs=(Log(key=LOG.verifier),), witnesses=(), groups=(), quorum="none")


def entry(i: int) -> bytes:
    return hashlib.sha256(i.to_bytes(8, "big")).digest()[: 1 + i % 32]


def signed_tree(size: int) -> tuple[MerkleTree, str]:
    tree = MerkleTree(leaf_hash(entry(i)) for i in range(size))
    text = Checkpoint(origin=LOG.name, size=size, root_hash=tree.root()).format()
    return tree, Note(text=text, signatures=(LOG.sign(text),)).format()


def proof_text(size: int, index: int, extra: bytes | None = None) -> str:
    tree, note = signed_tree(size)
    return format_proof(index, tree.inclusion_proof(index), note, extra=extra)


trees = st.integers(min_value=1, max_value=600).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=0, max_value=n - 1))
)


@settings(max_examples=60, deadline=None)
@given(trees, st.none() | st.binary(min_size=1, max_size=64))
def test_round_trip_and_verify(tree: tuple[int, int], extra: bytes | None) -> None:
    size, index = tree
    text = proof_text(size, index, extra)
    parsed = parse_proof(text)
    assert (
        format_proof(parsed.index, parsed.proof, parsed.checkpoint_note, extra=parsed.extra) == text
    )
    assert (parsed.index, parsed.extra, parsed.checkpoint.size) == (index, extra, size)
    assert verify_proof(text, entry(index), POLICY).checkpoint.size == size


@settings(max_examples=200, deadline=None)
@given(trees, st.data())
def test_any_flipped_bit_is_rejected(tree: tuple[int, int], data: st.DataObject) -> None:
    size, index = tree
    raw = bytearray(proof_text(size, index).encode())
    at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[at] ^= 1 << data.draw(st.integers(min_value=0, max_value=7))
    try:
        tampered = raw.decode("utf-8")
    except UnicodeDecodeError:
        return  # cannot even be handed over as text
    with pytest.raises((RecordFormatError, VerificationError)):
        verify_proof(tampered, entry(index), POLICY)


def test_example_layout() -> None:
    text = proof_text(5, 2, extra=b"age")
    head, _, note = text.partition("\n\n")
    assert head.split("\n")[:3] == [HEADER, "extra YWdl", "index 2"]
    assert len(head.split("\n")) == 3 + 3  # three proof hashes for leaf 2 of 5
    assert note.startswith("proof.test/log\n5\n")


def test_wrong_entry_or_policy() -> None:
    text = proof_text(10, 3)
    with pytest.raises(ProofError, match="calculated root"):
        verify_proof(text, entry(4), POLICY)
    stranger = SignerKey.generate("proof.test/log")
    other = TrustPolicy(logs=(Log(key=stranger.verifier),), witnesses=(), groups=(), quorum="none")
    with pytest.raises(SignatureError):
        verify_proof(text, entry(3), other)
    witnessed = TrustPolicy(
        logs=(Log(key=LOG.verifier),),
        witnesses=(Witness(name="w", key=WITNESS.verifier),),
        groups=(),
        quorum="w",
    )
    with pytest.raises(CheckpointError, match="quorum"):
        verify_proof(text, entry(3), witnessed)
    _, note = signed_tree(10)
    cosigned = Note.parse(note)
    cosigned = cosigned.with_signature(WITNESS.sign(cosigned.text, timestamp=1))
    tree, _ = signed_tree(10)
    good = format_proof(3, tree.inclusion_proof(3), cosigned.format())
    assert verify_proof(good, entry(3), witnessed).witnesses == {WITNESS.verifier}


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t.replace(HEADER, "c2sp.org/tlog-proof@v2"), "want 'c2sp.org/tlog-proof@v1'"),
        (lambda t: t.replace("index 3", "index 03"), "want a decimal"),
        (lambda t: t.replace("index 3", "index 30"), "want 0 ≤ index < tree size 10"),
        (lambda t: t.replace("index 3", "idx 3"), "want 'index <decimal>'"),
        (lambda t: t.replace("\n\n", "\n"), "no empty line"),
        (lambda t: t.replace("=\n", "\n", 1), "base64"),
        (lambda t: "\n".join(t.split("\n")[:2] + t.split("\n")[3:]), "proof has 3 hashes, want 4"),
        (lambda t: t.replace("index 3", "extra \nindex 3"), "extra is empty"),
        (lambda t: t.replace("\n\n", "\n\nnot a note"), "checkpoint note"),
        (lambda t: t + "x" * 300_000, "want ≤"),
    ],
)
def test_malformed(edit: object, match: str) -> None:
    assert callable(edit)
    with pytest.raises(RecordFormatError, match=match):
        parse_proof(edit(proof_text(10, 3)))


def test_constructing_a_bad_proof_is_refused() -> None:
    _, note = signed_tree(4)
    with pytest.raises(ValueError, match="want 2"):
        TlogProof(index=1, proof=(bytes(32),), checkpoint_note=note)
    with pytest.raises(ValueError, match="omit it"):
        format_proof(0, (bytes(32), bytes(32)), note, extra=b"")
