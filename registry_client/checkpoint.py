"""C2SP transparency-log checkpoints (tlog-checkpoint v1.0.0) and their verification.

A checkpoint is the body of a signed note: the log's origin, the tree size in decimal
(no leading zeros), the base64 RFC 6962 root hash, then optional non-empty extension
lines. `open_checkpoint` checks the log's signature and collects witness cosignatures;
`verify_checkpoint` also demands a quorum of them.

References
----------
https://c2sp.org/tlog-checkpoint@v1.0.0, https://c2sp.org/tlog-cosignature@v1.0.1
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from registry_client.errors import CheckpointError, SignatureError
from registry_client.merkle import HASH_SIZE
from registry_client.note import (
    KeyType,
    Note,
    VerifiedSignature,
    VerifierKey,
    decode_base64,
    encode_base64,
)

MAX_TREE_SIZE = 2**64 - 1
"""Largest tree size accepted (a uint64, as in RFC 9162 and the Go implementations)."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """A log's signed statement of its tree: ``origin``, ``size``, ``root_hash``."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, line in (("origin", self.origin), *(("extension", e) for e in self.extensions)):
            if not line:
                raise ValueError(f"{what} line is empty")
            if any(c < " " for c in line):
                raise ValueError(f"{what} line {line!r} contains a control character")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise ValueError(f"tree size is {self.size}, want 0 ≤ size ≤ {MAX_TREE_SIZE}")
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"root hash is {len(self.root_hash)} bytes, want {HASH_SIZE}")

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note body (tlog-checkpoint §Note text).

        Returns a fully valid checkpoint or raises `CheckpointError`.
        """
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"checkpoint has {len(lines)} lines, want at least 3")
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise CheckpointError(f"tree size {size_text!r}, want a decimal without leading zeros")
        try:
            root_hash = decode_base64(root_text)
            return cls(
                origin=origin,
                size=int(size_text),
                root_hash=root_hash,
                extensions=tuple(extensions),
            )
        except ValueError as exc:
            raise CheckpointError(f"malformed checkpoint: {exc}") from exc

    def format(self) -> str:
        """The checkpoint as note text (ends with a newline)."""
        lines = (self.origin, str(self.size), encode_base64(self.root_hash), *self.extensions)
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedCheckpoint:
    """A checkpoint whose log signature verified, with the cosignatures that did too."""

    checkpoint: Checkpoint
    note: Note
    log_key: VerifierKey
    cosignatures: tuple[VerifiedSignature, ...]

    @property
    def witnesses(self) -> frozenset[VerifierKey]:
        """The witness keys that cosigned."""
        return frozenset(c.key for c in self.cosignatures)


def open_checkpoint(
    note_text: str | bytes,
    log_keys: Iterable[VerifierKey],
    witness_keys: Iterable[VerifierKey] = (),
    *,
    origin: str | None = None,
) -> VerifiedCheckpoint:
    """Verify a checkpoint note's log signature and collect its valid cosignatures.

    One of ``log_keys`` (Ed25519, type 0x01) must have signed; the checkpoint's origin
    must be ``origin``, or by default the signing key's name (tlog-checkpoint
    §Signatures). Cosignatures by ``witness_keys`` (type 0x04) are verified and returned;
    no quorum is applied here. Raises `SignatureError` for a bad or missing signature and
    `CheckpointError` for a malformed body or the wrong origin.
    """
    logs, witnesses = tuple(log_keys), tuple(witness_keys)
    for key in logs:
        key.check_type(KeyType.ED25519, "log")
    for key in witnesses:
        key.check_type(KeyType.COSIGNATURE_V1, "witness")
    note = Note.parse(note_text)
    verified = note.verify((*logs, *witnesses))
    by_log = [v.key for v in verified if v.key in logs]
    if not by_log:
        trusted = ", ".join(k.reference for k in logs) or "none"
        raise SignatureError(f"checkpoint is not signed by a log key; trusted: {trusted}")
    checkpoint = Checkpoint.parse(note.text)
    want = origin if origin is not None else by_log[0].name
    if checkpoint.origin != want:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r}, want {want!r}")
    return VerifiedCheckpoint(
        checkpoint=checkpoint,
        note=note,
        log_key=by_log[0],
        cosignatures=tuple(v for v in verified if v.key in witnesses),
    )


def verify_checkpoint(
    note_text: str | bytes,
    log_key: VerifierKey,
    witness_keys: Sequence[VerifierKey] = (),
    quorum: int = 0,
    *,
    origin: str | None = None,
) -> VerifiedCheckpoint:
    """`open_checkpoint` for one log, then require ``quorum`` distinct witness cosignatures.

    ``quorum`` must lie in ``0 ≤ quorum ≤ len(witness_keys)``. Raises `CheckpointError`
    when fewer witnesses cosigned.
    """
    if not 0 <= quorum <= len(witness_keys):
        raise ValueError(f"quorum is {quorum}, want 0 ≤ quorum ≤ {len(witness_keys)}")
    verified = open_checkpoint(note_text, (log_key,), witness_keys, origin=origin)
    if len(verified.witnesses) < quorum:
        raise CheckpointError(
            f"{len(verified.witnesses)} of {len(witness_keys)} witnesses cosigned, "
            f"want at least {quorum}"
        )
    return verified
