"""Merkle hashing and proofs against the RFC, peer vectors and a slow reference tree.

Vectors: transparency-dev/merkle ``testdata`` (inclusion, consistency; Apache-2.0) and
golang/mod ``sumdb/tlog/testdata/argon2020`` (real CT proofs; BSD-3-Clause).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from registry_vectors import b64, case_id, cases, load

from registry_client.errors import ProofError
from registry_client.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    consistency_proof_length,
    inclusion_proof_length,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# The eight leaves of RFC 6962's test tree, as transparency-dev/merkle uses them.
RFC_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]


# --- A slow reference, straight from RFC 6962 §2.1 -------------------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 §2.1."""
    if not d:
        return _sha(b"")
    if len(d) == 1:
        return _sha(b"\x00" + d[0])
    k = _k(len(d))
    return _sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2."""
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 §2.1.2."""
    return ref_subproof(m, d, True)


def tree_of(entries: list[bytes]) -> MerkleTree:
    return MerkleTree(leaf_hash(e) for e in entries)


# --- Peer vectors -----------------------------------------------------------------------


def _hashes(value: list[str] | None) -> list[bytes]:
    return [b64(h) for h in value or []]


@pytest.mark.parametrize("path", cases("inclusion"), ids=case_id)
def test_inclusion_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (
        b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _hashes(case["proof"]),
        b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", cases("consistency"), ids=case_id)
def test_consistency_vectors(path: Path) -> None:
    case = json.loads(path.read_text())
    args = (
        case["size1"],
        case["size2"],
        _hashes(case["proof"]),
        b64(case["root1"]),
        b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_vector_counts() -> None:
    assert len(cases("inclusion")) == 98
    assert len(cases("consistency")) == 98


def _rfc_happy_paths(folder: str) -> list[Path]:
    """The well-formed cases built over the RFC leaves (folders 0–4)."""
    return [
        path
        for path in cases(folder)
        if path.parent.name.isdigit() and not json.loads(path.read_text())["wantErr"]
    ]


@pytest.mark.parametrize("path", _rfc_happy_paths("inclusion"), ids=case_id)
def test_happy_inclusion_vectors_are_what_the_tree_generates(path: Path) -> None:
    case = json.loads(path.read_text())
    tree = tree_of(RFC_LEAVES)
    assert tree.root(case["treeSize"]) == b64(case["root"])
    assert tree.inclusion_proof(case["leafIdx"], case["treeSize"]) == tuple(_hashes(case["proof"]))


@pytest.mark.parametrize("path", _rfc_happy_paths("consistency"), ids=case_id)
def test_happy_consistency_vectors_are_what_the_tree_generates(path: Path) -> None:
    case = json.loads(path.read_text())
    tree = tree_of(RFC_LEAVES)
    assert tree.root(case["size2"]) == b64(case["root2"])
    assert tree.consistency_proof(case["size1"], case["size2"]) == tuple(_hashes(case["proof"]))


ARGON_SIZE = 961_984_013
ARGON_OLD_SIZE = 3_654_490
ARGON_OLD_ROOT = b64("AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=")


def test_argon2020_inclusion() -> None:
    sth = load("golang-mod-argon2020/sth.json")
    assert sth["tree_size"] == ARGON_SIZE
    proof = load("golang-mod-argon2020/proof.json")
    leaf = leaf_hash(b64(load("golang-mod-argon2020/entries.json")["entries"][0]["leaf_input"]))
    root = b64(sth["sha256_root_hash"])
    path = _hashes(proof["audit_path"])
    verify_inclusion(leaf, proof["leaf_index"], ARGON_SIZE, path, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, proof["leaf_index"] + 1, ARGON_SIZE, path, root)


def test_argon2020_consistency() -> None:
    root = b64(load("golang-mod-argon2020/sth.json")["sha256_root_hash"])
    path = _hashes(load("golang-mod-argon2020/consistency.json")["consistency"])
    verify_consistency(ARGON_OLD_SIZE, ARGON_SIZE, path, ARGON_OLD_ROOT, root)
    with pytest.raises(ProofError) as caught:
        verify_consistency(ARGON_OLD_SIZE, ARGON_SIZE, path, ARGON_OLD_ROOT, EMPTY_ROOT)
    assert caught.value.expected_root == EMPTY_ROOT
    assert caught.value.calculated_root == root


# --- The reference tree -----------------------------------------------------------------


def test_rfc_tree_roots_match_reference() -> None:
    tree = tree_of(RFC_LEAVES)
    for size in range(len(RFC_LEAVES) + 1):
        assert tree.root(size) == ref_mth(RFC_LEAVES[:size])
    assert tree.root(0) == EMPTY_ROOT == root_hash([])
    assert root_hash([leaf_hash(e) for e in RFC_LEAVES]) == tree.root()


def test_hashing_is_domain_separated() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) == _sha(b"\x01" + left + right)
    assert leaf_hash(left + right) != node_hash(left, right)
    with pytest.raises(ValueError, match="want 32"):
        node_hash(left, b"short")


entries_st = st.lists(st.binary(max_size=8), min_size=1, max_size=140)


@settings(max_examples=150, deadline=None)
@given(entries=entries_st, data=st.data())
def test_inclusion_proofs_match_reference(entries: list[bytes], data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(entries)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    tree = tree_of(entries)
    proof = tree.inclusion_proof(index, size)
    root = ref_mth(entries[:size])
    assert list(proof) == ref_path(index, entries[:size])
    assert len(proof) == inclusion_proof_length(index, size)
    assert tree.root(size) == root
    verify_inclusion(leaf_hash(entries[index]), index, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(entries=entries_st, data=st.data())
def test_consistency_proofs_match_reference(entries: list[bytes], data: st.DataObject) -> None:
    size2 = data.draw(st.integers(1, len(entries)), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    tree = tree_of(entries)
    proof = tree.consistency_proof(size1, size2)
    assert list(proof) == ref_proof(size1, entries[:size2])
    assert len(proof) == consistency_proof_length(size1, size2)
    verify_consistency(size1, size2, proof, ref_mth(entries[:size1]), ref_mth(entries[:size2]))


def _flip(value: bytes, bit: int) -> bytes:
    flipped = bytearray(value)
    flipped[bit // 8 % len(value)] ^= 1 << (bit % 8)
    return bytes(flipped)


@settings(max_examples=150, deadline=None)
@given(entries=st.lists(st.binary(max_size=4), min_size=2, max_size=70), data=st.data())
def test_any_flipped_bit_breaks_an_inclusion_proof(
    entries: list[bytes], data: st.DataObject
) -> None:
    size = data.draw(st.integers(2, len(entries)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    tree = tree_of(entries)
    leaf, root = leaf_hash(entries[index]), tree.root(size)
    proof = list(tree.inclusion_proof(index, size))
    target = data.draw(st.integers(0, len(proof) + 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target == len(proof):
        leaf = _flip(leaf, bit)
    elif target == len(proof) + 1:
        root = _flip(root, bit)
    else:
        proof[target] = _flip(proof[target], bit)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(entries=st.lists(st.binary(max_size=4), min_size=2, max_size=70), data=st.data())
def test_any_flipped_bit_breaks_a_consistency_proof(
    entries: list[bytes], data: st.DataObject
) -> None:
    size2 = data.draw(st.integers(2, len(entries)), label="size2")
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    tree = tree_of(entries)
    root1, root2 = tree.root(size1), tree.root(size2)
    proof = list(tree.consistency_proof(size1, size2))
    target = data.draw(st.integers(0, len(proof) + 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    if target == len(proof):
        root1 = _flip(root1, bit)
    elif target == len(proof) + 1:
        root2 = _flip(root2, bit)
    else:
        proof[target] = _flip(proof[target], bit)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, root1, root2)


@settings(max_examples=50, deadline=None)
@given(
    entries=st.lists(st.binary(max_size=4), min_size=2, max_size=40, unique=True),
    data=st.data(),
)
def test_a_proof_does_not_move_to_the_next_leaf(entries: list[bytes], data: st.DataObject) -> None:
    size = data.draw(st.integers(2, len(entries)), label="size")
    index = data.draw(st.integers(0, size - 2), label="index")
    tree = tree_of(entries)
    proof = tree.inclusion_proof(index, size)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(entries[index]), index + 1, size, proof, tree.root(size))


def test_incremental_roots_match_reference_at_every_size() -> None:
    entries = [i.to_bytes(2, "big") for i in range(300)]
    tree = MerkleTree()
    for i, entry in enumerate(entries):
        assert tree.append(leaf_hash(entry)) == i
        assert tree.root() == ref_mth(entries[: i + 1])


class _CountingTree(MerkleTree):
    __slots__ = ("reads",)

    def __init__(self, leaves: list[bytes]) -> None:
        super().__init__(leaves)
        self.reads = 0

    def node(self, height: int, index: int) -> bytes:
        self.reads += 1
        return super().node(height, index)


def test_roots_and_proofs_read_logarithmically_many_nodes() -> None:
    size = 100_003
    tree = _CountingTree([i.to_bytes(32, "big") for i in range(size)])
    budget = 2 * size.bit_length()
    for call in (
        lambda: tree.root(size - 1),
        lambda: tree.inclusion_proof(12_345),
        lambda: tree.inclusion_proof(size - 1),
        lambda: tree.consistency_proof(77_777),
        lambda: tree.consistency_proof(65_536, size - 2),
    ):
        tree.reads = 0
        call()
        assert 0 < tree.reads <= budget


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.root(9), "size is 9, want 0 ≤ size ≤ 8"),
        (lambda t: t.inclusion_proof(8), "leaf index 8 is outside a tree of size 8"),
        (lambda t: t.consistency_proof(0, 4), "size1 is 0, want 1 ≤ size1 ≤ 4"),
        (lambda t: t.consistency_proof(5, 4), "size1 is 5, want 1 ≤ size1 ≤ 4"),
        (lambda t: t.append(b"x"), "leaf hash is 1 bytes, want 32"),
        (lambda t: t.node(3, 1), "no complete subtree at height 3, index 1"),
    ],
)
def test_generation_preconditions_say_got_and_want(call: object, message: str) -> None:
    tree = tree_of(RFC_LEAVES)
    with pytest.raises(ValueError, match=message):
        call(tree)  # type: ignore[operator]


def test_malformed_proofs_say_got_and_want() -> None:
    tree = tree_of(RFC_LEAVES)
    proof = tree.inclusion_proof(2, 8)
    with pytest.raises(ProofError, match="has 2 hashes, want 3"):
        root_from_inclusion_proof(leaf_hash(RFC_LEAVES[2]), 2, 8, proof[:2])
    with pytest.raises(ProofError, match="inclusion proof hash 1 is 31 bytes, want 32"):
        root_from_inclusion_proof(leaf_hash(RFC_LEAVES[2]), 2, 8, [proof[0], b"\0" * 31, proof[2]])
    with pytest.raises(ProofError, match="want 0 < size1"):
        verify_consistency(0, 8, [], EMPTY_ROOT, tree.root())
