"""Errors raised by the registry client.

::

    RegistryError
    ├── VerificationError        evidence failed a security check; callers fail closed
    │   ├── SignatureError       a note or record signature is malformed or does not verify,
    │   │                        or nothing was signed by a trusted key
    │   ├── ProofError           a Merkle proof is malformed or leads to a different root
    │   ├── CheckpointError      a checkpoint is malformed, from the wrong log, or short of
    │   │                        its witness quorum
    │   ├── RevokedKeyError      the signing key has been revoked (or, RetiredKeyError in
    │   │                        `succession`, rotated away before it signed; or,
    │   │                        KeyHistoryError, it has too many key events to judge)
    │   ├── LedgerCorruptError   a file of a ledger folder is missing or disagrees
    │   └── ExpiredBundleError   an offline bundle is past its expiry
    ├── RecordFormatError        a record, envelope, key or policy text cannot be parsed
    └── RegistryUnavailable      the registry could not be reached or did not answer usefully

Each error carries its evidence as fields, and its message says what was expected and
what was found. Programming errors (a negative tree size passed by the caller, say) are
``ValueError``\\ s, not registry errors.
"""

from __future__ import annotations

from datetime import datetime


class RegistryError(Exception):
    """Base class of every error the registry client raises."""


class VerificationError(RegistryError):
    """Evidence (signature, proof, checkpoint, key status, bundle age) failed a check."""


class SignatureError(VerificationError):
    """A signature is malformed, fails to verify, or no trusted key signed.

    ``key`` names the key concerned as ``name+hash`` text when one is known.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class ProofError(VerificationError):
    """A Merkle inclusion or consistency proof is malformed or does not match.

    When the proof was well formed but led elsewhere, ``expected_root`` is the trusted
    root and ``calculated_root`` the one the proof produced (as in transparency-dev's
    ``RootMismatchError``); both are ``None`` for malformed proofs.
    """

    def __init__(
        self,
        message: str,
        *,
        expected_root: bytes | None = None,
        calculated_root: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.expected_root = expected_root
        self.calculated_root = calculated_root

    @classmethod
    def root_mismatch(cls, what: str, *, expected: bytes, calculated: bytes) -> ProofError:
        """The proof computed ``calculated`` where ``expected`` was trusted."""
        return cls(
            f"{what}: calculated root {calculated.hex()}, want {expected.hex()}",
            expected_root=expected,
            calculated_root=calculated,
        )


class CheckpointError(VerificationError):
    """A checkpoint is malformed, names another log, or lacks its witness quorum."""


class RevokedKeyError(VerificationError):
    """A signature was made by a key that is revoked (since ``revoked_at``, if known)."""

    def __init__(self, key: str, *, revoked_at: datetime | None = None) -> None:
        since = f" since {revoked_at.isoformat()}" if revoked_at is not None else ""
        super().__init__(f"key {key} is revoked{since}")
        self.key = key
        self.revoked_at = revoked_at


class ExpiredBundleError(VerificationError):
    """An offline bundle expired at ``expires_at``; it was checked at ``now``."""

    def __init__(self, *, expires_at: datetime, now: datetime) -> None:
        super().__init__(
            f"bundle expired at {expires_at.isoformat()}, checked at {now.isoformat()}"
        )
        self.expires_at = expires_at
        self.now = now


class RecordFormatError(RegistryError):
    """Bytes or text that should hold a record, envelope, key or policy do not.

    ``field`` names the offending field or line when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.reason = message
        self.field = field


class RegistryUnavailable(RegistryError):
    """The registry at ``url`` could not be reached or gave no usable answer."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(f"{url}: {message}" if url else message)
        self.url = url


class LedgerCorruptError(VerificationError):
    """A file in the ledger folder is missing or disagrees with the entries or checkpoint.

    ``path`` names the file, relative to the folder.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
