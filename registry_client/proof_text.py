"""Per-item transparency proofs as text: ``c2sp.org/tlog-proof@v1``.

A proof is self-contained and verifiable offline against a trust policy::

    c2sp.org/tlog-proof@v1
    extra <base64>              optional, unauthenticated application data
    index <decimal>             the entry's leaf index, no leading zeros
    <base64 hash>               the RFC 6962 inclusion proof, leaf's sibling first,
    ...                         one SHA-256 per line
                                an empty line
    <checkpoint note>           verbatim (c2sp.org/tlog-checkpoint, with cosignatures)

`parse_proof` returns a well-formed `TlogProof` (index inside the tree, proof of the
length RFC 9162 requires, checkpoint note parsed) or raises `RecordFormatError`;
`verify_proof` also checks the checkpoint against the policy and the entry's inclusion.

References
----------
https://c2sp.org/tlog-proof, https://c2sp.org/tlog-checkpoint; RFC 9162 §2.1.3.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from registry_client.checkpoint import Checkpoint, VerifiedCheckpoint
from registry_client.errors import CheckpointError, RecordFormatError, SignatureError
from registry_client.merkle import HASH_SIZE, inclusion_proof_length, leaf_hash, verify_inclusion
from registry_client.note import Note, decode_base64, encode_base64
from registry_client.policy import TrustPolicy

HEADER = "c2sp.org/tlog-proof@v1"
"""The first line of every proof."""
MAX_PROOF_SIZE = 256 * 1024
"""Largest proof text accepted, in characters."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class TlogProof:
    """Leaf ``index``'s inclusion ``proof`` in the tree of ``checkpoint_note``.

    ``checkpoint`` is the note's parsed body; nothing is verified until `verify_proof`.
    """

    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        size = self.checkpoint.size
        if not 0 <= self.index < size:
            raise ValueError(f"index is {self.index}, want 0 ≤ index < tree size {size}")
        want = inclusion_proof_length(self.index, size)
        if len(self.proof) != want:
            raise ValueError(f"proof has {len(self.proof)} hashes, want {want}")
        if any(len(h) != HASH_SIZE for h in self.proof):
            raise ValueError(f"proof hashes must be {HASH_SIZE} bytes")
        if self.extra == b"":
            raise ValueError("extra is empty; omit it instead")

    @property
    def checkpoint(self) -> Checkpoint:
        """The checkpoint the proof is for (its note's body, unverified)."""
        try:
            return Checkpoint.parse(Note.parse(self.checkpoint_note).text)
        except (SignatureError, CheckpointError) as exc:
            raise ValueError(f"checkpoint note: {exc}") from exc


def format_proof(
    index: int, proof: Sequence[bytes], checkpoint_note: str, *, extra: bytes | None = None
) -> str:
    """The ``c2sp.org/tlog-proof@v1`` text; raises ``ValueError`` if it would be malformed."""
    value = TlogProof(index=index, proof=tuple(proof), checkpoint_note=checkpoint_note, extra=extra)
    lines = [HEADER]
    if value.extra is not None:
        lines.append(f"extra {encode_base64(value.extra)}")
    lines.append(f"index {value.index}")
    lines.extend(encode_base64(h) for h in value.proof)
    return "\n".join(lines) + "\n\n" + value.checkpoint_note


def parse_proof(text: str) -> TlogProof:
    """Parse a ``c2sp.org/tlog-proof@v1`` text; raises `RecordFormatError` naming the line."""
    if len(text) > MAX_PROOF_SIZE:
        raise RecordFormatError(f"proof is {len(text)} characters, want ≤ {MAX_PROOF_SIZE}")
    head, blank, note = text.partition("\n\n")
    if not blank:
        raise RecordFormatError("no empty line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise RecordFormatError(f"{lines[0][:40]!r}, want {HEADER!r}", field="line 1")
    extra = None
    at = 1
    if at < len(lines) and lines[at].startswith("extra "):
        extra = _base64(lines[at].removeprefix("extra "), at)
        at += 1
    if at >= len(lines) or not lines[at].startswith("index "):
        raise RecordFormatError("want 'index <decimal>'", field=f"line {at + 1}")
    digits = lines[at].removeprefix("index ")
    if not _DECIMAL.fullmatch(digits) or len(digits) > 20:
        raise RecordFormatError(f"index {digits!r:.30}, want a decimal", field=f"line {at + 1}")
    proof = tuple(_base64(line, n) for n, line in enumerate(lines[at + 1 :], start=at + 1))
    try:
        return TlogProof(index=int(digits), proof=proof, checkpoint_note=note, extra=extra)
    except ValueError as exc:
        raise RecordFormatError(str(exc)) from exc


def _base64(text: str, line: int) -> bytes:
    try:
        return decode_base64(text)
    except ValueError as exc:
        raise RecordFormatError(str(exc), field=f"line {line + 1}") from exc


def verify_proof(text: str, entry: bytes, policy: TrustPolicy) -> VerifiedCheckpoint:
    """Check that ``entry`` is in the log the proof's checkpoint commits to.

    The checkpoint must satisfy ``policy`` (log signature, witness quorum); the entry's
    leaf hash must lead to its root (RFC 9162 §2.1.3.2). Returns the verified
    checkpoint. Raises `RecordFormatError`, `SignatureError`, `CheckpointError` or
    `ProofError`. The ``extra`` data stays unauthenticated.
    """
    parsed = parse_proof(text)
    verified = policy.verify_checkpoint(parsed.checkpoint_note)
    tree = verified.checkpoint
    verify_inclusion(leaf_hash(entry), parsed.index, tree.size, parsed.proof, tree.root_hash)
    return verified
