"""RFC 6962 / RFC 9162 Merkle hash trees: hashing, roots, inclusion and consistency proofs.

A tree over leaves ``D[0:n]`` has root ``MTH(D[0:n])`` (RFC 9162 §2.1.1): leaves hash as
``SHA-256(0x00 ‖ d)``, interior nodes as ``SHA-256(0x01 ‖ left ‖ right)``, and the left
subtree of ``D[0:n]`` holds the largest power of two strictly below ``n`` leaves.

Verification (`verify_inclusion`, `verify_consistency`) follows RFC 9162 §2.1.3.2 and
§2.1.4.2. Proof generation follows §2.1.3.1 and §2.1.4.1 over any `NodeSource`: a store
of *complete* subtree hashes, such as the in-memory `MerkleTree` here or a set of
C2SP tlog-tiles (`registry_client.tiles`). Every tree hash the RFC recursion asks for
is a right-border range, assembled from at most log2(n) stored complete subtrees, so a
root or proof costs O(log n) stored-hash reads.

References
----------
RFC 6962 §2.1, Certificate Transparency (2013).
RFC 9162 §2.1, Certificate Transparency Version 2.0 (2021).
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

from registry_client.errors import ProofError

HASH_SIZE = 32
"""Bytes in a SHA-256 tree hash."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() — the root of the empty tree (RFC 9162 §2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 ‖ data)``: the tree hash of one log entry (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``: the tree hash of an interior node (RFC 9162 §2.1.1)."""
    _check_hash("left", left)
    _check_hash("right", right)
    return _node(left, right)


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} is {len(value)} bytes, want {HASH_SIZE}")


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n ≥ 2``): the left subtree's size."""
    return 1 << ((n - 1).bit_length() - 1)


class NodeSource(ABC):
    """A store of complete-subtree hashes that can answer for any tree size up to `size`.

    Subclasses provide `size` and `node`; roots and proofs are derived here, once, for
    every store (in-memory tree, tiles).
    """

    __slots__ = ()

    @property
    @abstractmethod
    def size(self) -> int:
        """Number of leaves the store covers."""

    @abstractmethod
    def node(self, height: int, index: int) -> bytes:
        """Hash of the complete subtree ``D[index·2^height : (index+1)·2^height]``.

        Callers guarantee ``(index + 1) · 2^height ≤ size``.
        """

    def root(self, size: int | None = None) -> bytes:
        """``MTH(D[0:size])``, by default for the whole store (RFC 9162 §2.1.1)."""
        size = self.size if size is None else size
        self._check_size("size", size)
        return self._range_hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> tuple[bytes, ...]:
        """``PATH(index, D[0:size])``, leaf-side first (RFC 9162 §2.1.3.1)."""
        size = self.size if size is None else size
        self._check_size("size", size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of size {size}")
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                path.append(self._range_hash(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._range_hash(lo, lo + k))
                lo += k
        return tuple(reversed(path))

    def consistency_proof(self, size1: int, size2: int | None = None) -> tuple[bytes, ...]:
        """``PROOF(size1, D[0:size2])``, deepest node first (RFC 9162 §2.1.4.1).

        Requires ``0 < size1 ≤ size2``; equal sizes give the empty proof.
        """
        size2 = self.size if size2 is None else size2
        self._check_size("size2", size2)
        if not 0 < size1 <= size2:
            raise ValueError(f"size1 is {size1}, want 1 ≤ size1 ≤ {size2}")
        path: list[bytes] = []
        lo, hi = 0, size2
        whole_subtree = True  # SUBPROOF's flag b: is D[lo:size1] the entire old tree?
        while size1 != hi:
            k = _split(hi - lo)
            if size1 <= lo + k:
                path.append(self._range_hash(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._range_hash(lo, lo + k))
                lo += k
                whole_subtree = False
        if not whole_subtree:
            path.append(self._range_hash(lo, hi))
        return tuple(reversed(path))

    def _check_size(self, what: str, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"{what} is {size}, want 0 ≤ {what} ≤ {self.size}")

    def _range_hash(self, start: int, end: int) -> bytes:
        """``MTH(D[start:end])`` for a range the RFC recursion produces.

        Such ranges start at a multiple of the smallest power of two ≥ ``end − start``,
        so they split into complete subtrees of strictly decreasing size, folded right.
        """
        nodes: list[bytes] = []
        while start < end:
            height = (end - start).bit_length() - 1
            nodes.append(self.node(height, start >> height))
            start += 1 << height
        acc = nodes.pop()
        while nodes:
            acc = _node(nodes.pop(), acc)
        return acc


class MerkleTree(NodeSource):
    """An append-only tree that keeps every complete subtree hash, level by level.

    Level ``h`` is a ``bytearray`` of the 32-byte hashes of the complete subtrees of
    ``2^h`` leaves, so memory is about 64 bytes per leaf and `root`, `inclusion_proof`
    and `consistency_proof` for any earlier size read O(log n) stored hashes.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return len(self._levels[0]) // HASH_SIZE

    def append(self, leaf: bytes) -> int:
        """Append one leaf hash (see `leaf_hash`); returns its index."""
        _check_hash("leaf hash", leaf)
        index = self.size
        node, height, position = leaf, 0, index
        while True:
            self._levels[height] += node
            if position % 2 == 0:
                return index
            left = self._levels[height][-2 * HASH_SIZE : -HASH_SIZE]
            node, height, position = _node(bytes(left), node), height + 1, position // 2
            if height == len(self._levels):
                self._levels.append(bytearray())

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append leaf hashes in order."""
        for leaf in leaf_hashes:
            self.append(leaf)

    def node(self, height: int, index: int) -> bytes:
        """Hash of the complete subtree of ``2^height`` leaves at ``index`` on its level."""
        if not 0 <= height < len(self._levels) or not 0 <= index < self.size >> height:
            raise ValueError(f"no complete subtree at height {height}, index {index}")
        return bytes(self._levels[height][index * HASH_SIZE : (index + 1) * HASH_SIZE])


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH`` of a list of leaf hashes (RFC 9162 §2.1.1)."""
    return MerkleTree(leaf_hashes).root()


def inclusion_proof_length(index: int, size: int) -> int:
    """Number of hashes in ``PATH(index, D[0:size])``; requires ``0 ≤ index < size``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    inner = (index ^ (size - 1)).bit_length()  # levels below where index and size−1 diverge
    return inner + (index >> inner).bit_count()


def consistency_proof_length(size1: int, size2: int) -> int:
    """Number of hashes in ``PROOF(size1, D[0:size2])``; requires ``0 < size1 ≤ size2``."""
    if not 0 < size1 <= size2:
        raise ValueError(f"size1 is {size1}, want 1 ≤ size1 ≤ {size2}")
    if size1 == size2:
        return 0
    shift = (size1 & -size1).bit_length() - 1  # trailing zero bits of size1
    seed_sent = int(size1 != 1 << shift)  # the old root is sent unless size1 is 2^shift
    return inclusion_proof_length(size1 - 1, size2) - shift + seed_sent


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` implies for ``leaf`` at ``index`` (RFC 9162 §2.1.3.2 1–4).

    The path's first ``inner`` hashes sit below the level where ``index`` and ``size − 1``
    part, each on the side ``index``'s bit there says; the rest border the tree's right
    edge, all on the left (transparency-dev/merkle's ``chainInner``/``chainBorderRight``,
    one hash per proof element). Raises `ProofError` when the proof cannot be well
    formed for these arguments.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_evidence("leaf hash", leaf)
    want = inclusion_proof_length(index, size)
    if len(proof) != want:
        raise ProofError(f"inclusion proof has {len(proof)} hashes, want {want}")
    _check_path("inclusion proof", proof)
    inner = (index ^ (size - 1)).bit_length()
    node, sha256 = leaf, hashlib.sha256  # `_node`, inlined: this loop is a verifier's hot path
    for level, sibling in enumerate(proof):
        if level >= inner or (index >> level) & 1:
            node = sha256(_NODE_PREFIX + sibling + node).digest()
        else:
            node = sha256(_NODE_PREFIX + node + sibling).digest()
    return node


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` sits at ``index`` in the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Raises `ProofError`, with both roots on a mismatch.
    """
    calculated = root_from_inclusion_proof(leaf, index, size, proof)
    if calculated != root:
        raise ProofError.root_mismatch(
            f"inclusion of leaf {index} in tree of size {size}",
            expected=root,
            calculated=calculated,
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size1`` with ``root1`` is a prefix of ``size2`` with ``root2``.

    RFC 9162 §2.1.4.2, for ``0 < size1 ≤ size2``: a proof from the empty tree proves
    nothing and is refused; equal sizes need an empty proof and equal roots. Raises
    `ProofError`, with both roots on a mismatch.
    """
    if not 0 < size1 <= size2:
        raise ProofError(f"consistency from size {size1} to {size2}: want 0 < size1 ≤ size2")
    if size1 == size2:
        if proof:
            raise ProofError(f"equal sizes need an empty proof, got {len(proof)} hashes")
        if root1 != root2:
            raise ProofError.root_mismatch(
                f"tree of size {size1}", expected=root1, calculated=root2
            )
        return
    _check_evidence("root1", root1)
    _check_evidence("root2", root2)
    want = consistency_proof_length(size1, size2)
    if len(proof) != want:
        raise ProofError(f"consistency proof has {len(proof)} hashes, want {want}")
    _check_path("consistency proof", proof)

    path = list(proof)
    if (size1 & (size1 - 1)) == 0:  # step 2: a power-of-two old tree is its own seed
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    old, new = _fold_consistency(path[0], fn, sn, path[1:])
    if old != root1:
        raise ProofError.root_mismatch(
            f"consistency proof {size1}→{size2}, old tree", expected=root1, calculated=old
        )
    if new != root2:
        raise ProofError.root_mismatch(
            f"consistency proof {size1}→{size2}, new tree", expected=root2, calculated=new
        )


def _check_evidence(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, want {HASH_SIZE}")


def _check_path(what: str, path: Sequence[bytes]) -> None:
    for i, h in enumerate(path):
        if len(h) != HASH_SIZE:  # the message is only formatted for the culprit
            _check_evidence(f"{what} hash {i}", h)


def _fold_consistency(seed: bytes, fn: int, sn: int, path: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Chain ``path`` onto ``seed`` for the old (``fr``) and new (``sr``) trees.

    The loop of RFC 9162 §2.1.4.2 step 6. The caller has checked the path length, so
    ``sn`` ends at 0.
    """
    fr = sr = seed
    for c in path:
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr, sr
