"""A witness that cosigns checkpoints of the logs in its policy (c2sp.org/tlog-witness).

``add-checkpoint`` request body::

    old <size>
    <base64 consistency-proof hash>     (one per line, none when old is 0)
    <blank line>
    <checkpoint signed note>

The witness checks the log's signature, that ``old`` is the size it last cosigned for
that origin (else `SizeConflict`, HTTP 409 with the size it holds), and the consistency
proof from that checkpoint (`registry_client.registry.CheckpointStore`), then answers
its ``cosignature/v1`` line (c2sp.org/tlog-cosignature).
"""

from __future__ import annotations

import time

from registry_client.errors import CheckpointError, RecordFormatError
from registry_client.note import KeyType, SignerKey, decode_base64
from registry_client.policy import TrustPolicy
from registry_client.registry import CheckpointStore


class SizeConflict(CheckpointError):
    """``old`` is not the size last cosigned: the submitter should retry from ``held``."""

    def __init__(self, *, old: int, held: int) -> None:
        super().__init__(f"old size {old}, the witness holds {held}")
        self.held = held


class Witness:
    """Cosigns checkpoints of ``policy``'s logs with ``key``, remembering them in ``store``."""

    def __init__(self, key: SignerKey, policy: TrustPolicy, store: CheckpointStore) -> None:
        if key.key_type is not KeyType.COSIGNATURE_V1:
            raise ValueError(f"witness key type is {key.key_type.name}, want COSIGNATURE_V1")
        self._key = key
        self._policy = policy
        self._store = store

    def add_checkpoint(self, body: bytes) -> str:
        """Cosign the checkpoint in an ``add-checkpoint`` body; the signature line.

        Raises `RecordFormatError` (malformed), `SignatureError` (unknown log or bad
        signature), `SizeConflict`, `SplitViewError` (proof fails).
        """
        try:
            head, note = body.decode("utf-8").split("\n\n", 1)
            first, *proof_lines = head.split("\n")
            if not first.startswith("old ") or not first[4:].isdigit():
                raise ValueError(f"first line {first!r}, want 'old <size>'")
            old = int(first[4:])
            proof = [decode_base64(line) for line in proof_lines]
        except ValueError as exc:  # UnicodeDecodeError is a ValueError
            raise RecordFormatError(f"add-checkpoint body: {exc}") from exc
        logs = TrustPolicy(
            logs=self._policy.logs, witnesses=(), groups=(), quorum="none", manufacturers=()
        )
        verified = logs.verify_checkpoint(note)
        held = self._store.last(verified.checkpoint.origin)
        if old != (held.size if held is not None else 0):
            raise SizeConflict(old=old, held=held.size if held is not None else 0)
        self._store.accept(verified, lambda _size1, _size2: proof)
        text = verified.note.text
        return self._key.sign(text, timestamp=int(time.time())).line()
