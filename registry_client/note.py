"""C2SP signed notes (signed-note v1.0.0) and witness cosignatures (tlog-cosignature v1).

A note is UTF-8 text ending in a newline, a blank line, then one or more lines
``— <key name> base64(key ID ‖ signature)``. A key is named and identified by
``(name, key ID)`` where ``key ID = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]``, and is
written as a *vkey* ``name+hash+base64(type ‖ public key)`` (signer keys:
``PRIVATE+KEY+name+hash+base64(type ‖ seed)``).

Two key types are supported: ``0x01`` Ed25519 over the note text (signed-note §Ed25519
signatures) and ``0x04`` timestamped Ed25519 witness cosignatures, whose signature is
``u64 timestamp ‖ Ed25519 sig`` over ``"cosignature/v1\\ntime <t>\\n" ‖ text``
(tlog-cosignature §Format, §Ed25519 signed message).

Verification follows signed-note §Signatures: signatures from unknown keys are ignored,
a bad signature from a known key rejects the whole note, and a note with no verified
signature from a known key is rejected.

References
----------
https://c2sp.org/signed-note@v1.0.0, https://c2sp.org/tlog-cosignature@v1.0.1
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

import nacl.exceptions
import nacl.signing

from registry_client.errors import RecordFormatError, SignatureError

MAX_SIGNATURES = 100
"""Most signature lines a note may carry (signed-note §Format: at least 16; Go uses 100)."""

MAX_TIMESTAMP = 2**63 - 1
"""Largest cosignature timestamp (tlog-cosignature §Format)."""

_ED25519_KEY_SIZE = 32
_ED25519_SIG_SIZE = 64
_TIMESTAMP_SIZE = 8
_SIGNATURE_PREFIX = "— "
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_NAME_FORBIDDEN = re.compile(r"[\s+\x00-\x1f]")  # \s: Unicode spaces, as str.isspace


class KeyType(IntEnum):
    """Signature type identifier bytes (signed-note §Signature types)."""

    ED25519 = 0x01
    """Ed25519 over the note text."""
    COSIGNATURE_V1 = 0x04
    """Timestamped Ed25519 witness cosignature (tlog-cosignature)."""


def decode_base64(text: str) -> bytes:
    """Standard base64 (RFC 4648 §4), canonical only: padded, no stray bits or characters.

    Raises ``ValueError`` otherwise, so one value has one encoding.
    """
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII str
        raise ValueError(f"not base64: {text!r}") from exc
    if binascii.b2a_base64(raw, newline=False) != text.encode("ascii"):
        raise ValueError(f"non-canonical base64: {text!r}")
    return raw


def encode_base64(raw: bytes) -> str:
    """Standard padded base64 text (RFC 4648 §4)."""
    return base64.b64encode(raw).decode("ascii")


def check_key_name(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is a valid key name (signed-note §Format).

    Names are non-empty, with no Unicode spaces, no plus signs and no control characters.
    """
    if not name:
        raise ValueError("key name is empty")
    if bad := _NAME_FORBIDDEN.search(name):
        raise ValueError(
            f"key name {name!r} contains {bad.group()!r}; want no spaces, '+' or controls"
        )


@functools.lru_cache(maxsize=1024)
def key_id(name: str, key_type: KeyType, public_key: bytes) -> int:
    """``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`` as a big-endian uint32."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What a ``cosignature/v1`` signs (tlog-cosignature §Ed25519 signed message)."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def _parse_key_text(text: str, *, what: str) -> tuple[str, int, KeyType, bytes]:
    """Split ``name+hash+base64(type ‖ key)`` into its checked parts (hash not yet matched)."""
    parts = text.split("+", 2)  # base64 may itself contain '+'
    if len(parts) != 3:
        raise RecordFormatError("want name+hash+key", field=what)
    name, hash_hex, key_b64 = parts
    if len(hash_hex) != 8 or hash_hex.strip("0123456789abcdef"):
        raise RecordFormatError(f"key hash {hash_hex!r}, want 8 lowercase hex digits", field=what)
    try:
        check_key_name(name)
        raw = decode_base64(key_b64)
    except ValueError as exc:
        raise RecordFormatError(str(exc), field=what) from exc
    if not raw:
        raise RecordFormatError("key data is empty", field=what)
    try:
        key_type = KeyType(raw[0])
    except ValueError as exc:
        raise RecordFormatError(
            f"key type 0x{raw[0]:02x}, want one of " + ", ".join(f"0x{t:02x}" for t in KeyType),
            field=what,
        ) from exc
    if len(raw) != 1 + _ED25519_KEY_SIZE:
        raise RecordFormatError(
            f"key is {len(raw) - 1} bytes, want {_ED25519_KEY_SIZE}", field=what
        )
    return name, int(hash_hex, 16), key_type, raw[1:]


def _check_key_fields(name: str, key_type: KeyType, key: bytes, *, what: str) -> None:
    check_key_name(name)
    if not isinstance(key_type, KeyType):
        raise ValueError(f"key type is {key_type!r}, want a KeyType")
    if len(key) != _ED25519_KEY_SIZE:
        raise ValueError(f"{what} is {len(key)} bytes, want {_ED25519_KEY_SIZE}")


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifierKey:
    """A public key that can verify note signatures: a C2SP *vkey*."""

    name: str
    key_type: KeyType
    public_key: bytes

    def __post_init__(self) -> None:
        _check_key_fields(self.name, self.key_type, self.public_key, what="public key")

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse vkey text ``name+hash+base64(type ‖ key)``; raises `RecordFormatError`."""
        name, claimed, key_type, public_key = _parse_key_text(text, what="vkey")
        key = cls(name=name, key_type=key_type, public_key=public_key)
        if claimed != key.key_id:
            raise RecordFormatError(
                f"key hash {claimed:08x} does not match the key, want {key.key_id:08x}",
                field="vkey",
            )
        return key

    @property
    def key_id(self) -> int:
        """The 32-bit key ID (signed-note §Signatures)."""
        return key_id(self.name, self.key_type, self.public_key)

    def check_type(self, want: KeyType, role: str) -> None:
        """Raise ``ValueError`` unless this key has type ``want``, as its ``role`` needs."""
        if self.key_type is not want:
            raise ValueError(
                f"{role} key {self.reference} has type {self.key_type.name}, want {want.name}"
            )

    @property
    def reference(self) -> str:
        """``name+hash``: how errors and records refer to this key."""
        return f"{self.name}+{self.key_id:08x}"

    def format(self) -> str:
        """The vkey text."""
        return f"{self.reference}+{encode_base64(bytes([self.key_type]) + self.public_key)}"

    def verify(self, text: str, signature: bytes) -> int | None:
        """Check ``signature`` (key ID already stripped) over note ``text``.

        Returns the cosignature timestamp for ``COSIGNATURE_V1`` keys, ``None`` for plain
        Ed25519. Raises `SignatureError` if the signature is malformed or wrong.
        """
        if self.key_type is KeyType.COSIGNATURE_V1:
            want = _TIMESTAMP_SIZE + _ED25519_SIG_SIZE
            stamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
            message, sig = cosigned_message(text, stamp), signature[_TIMESTAMP_SIZE:]
        else:
            want, stamp, message, sig = _ED25519_SIG_SIZE, None, text.encode(), signature
        if len(signature) != want:
            raise SignatureError(
                f"signature by {self.reference} is {len(signature)} bytes, want {want}",
                key=self.reference,
            )
        if stamp is not None and stamp > MAX_TIMESTAMP:
            raise SignatureError(
                f"cosignature time {stamp}, want ≤ {MAX_TIMESTAMP}", key=self.reference
            )
        try:
            nacl.signing.VerifyKey(self.public_key).verify(message, sig)
        except nacl.exceptions.BadSignatureError as exc:
            raise SignatureError(
                f"signature by known key {self.reference} does not verify", key=self.reference
            ) from exc
        return stamp


@dataclass(frozen=True, slots=True, kw_only=True)
class Signature:
    """One signature line: ``— <name> base64(key ID ‖ signature)``."""

    name: str
    key_id: int
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not 0 <= self.key_id < 2**32:
            raise ValueError(f"key ID is {self.key_id}, want a uint32")
        if not self.signature:
            raise ValueError("signature is empty")

    def line(self) -> str:
        """The signature line, newline included."""
        raw = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIGNATURE_PREFIX}{self.name} {encode_base64(raw)}\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignerKey:
    """A private Ed25519 key that signs notes: a C2SP *skey*. Never logged or printed."""

    name: str
    key_type: KeyType
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_key_fields(self.name, self.key_type, self.seed, what="seed")

    @classmethod
    def generate(cls, name: str, key_type: KeyType = KeyType.ED25519) -> SignerKey:
        """A fresh key from the operating system's CSPRNG."""
        return cls(name=name, key_type=key_type, seed=os.urandom(_ED25519_KEY_SIZE))

    @classmethod
    def parse(cls, text: str) -> SignerKey:
        """Parse ``PRIVATE+KEY+name+hash+base64(type ‖ seed)``; raises `RecordFormatError`.

        The hash must match the public key derived from the seed.
        """
        if not text.startswith(_PRIVATE_PREFIX):
            raise RecordFormatError(f"want text starting {_PRIVATE_PREFIX!r}", field="skey")
        name, claimed, key_type, seed = _parse_key_text(
            text.removeprefix(_PRIVATE_PREFIX), what="skey"
        )
        key = cls(name=name, key_type=key_type, seed=seed)
        if claimed != key.verifier.key_id:
            raise RecordFormatError(
                f"key hash {claimed:08x} does not match the key, want {key.verifier.key_id:08x}",
                field="skey",
            )
        return key

    @property
    def verifier(self) -> VerifierKey:
        """The matching public key."""
        public = bytes(nacl.signing.SigningKey(self.seed).verify_key)
        return VerifierKey(name=self.name, key_type=self.key_type, public_key=public)

    def format(self) -> str:
        """The skey text. It is a secret: store it like a password."""
        raw = bytes([self.key_type]) + self.seed
        return f"{_PRIVATE_PREFIX}{self.verifier.reference}+{encode_base64(raw)}"

    def sign_bytes(self, message: bytes) -> bytes:
        """A bare 64-byte Ed25519 signature over ``message`` (RFC 8032)."""
        return nacl.signing.SigningKey(self.seed).sign(message).signature

    def sign(self, text: str, *, timestamp: int | None = None) -> Signature:
        """Sign note ``text``; ``COSIGNATURE_V1`` keys need a POSIX ``timestamp``."""
        if not text.endswith("\n"):
            raise ValueError("note text must end with a newline")
        verifier = self.verifier
        if self.key_type is KeyType.COSIGNATURE_V1:
            if timestamp is None or not 0 <= timestamp <= MAX_TIMESTAMP:
                raise ValueError(f"cosignature time is {timestamp}, want 0 ≤ t ≤ {MAX_TIMESTAMP}")
            raw = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self.sign_bytes(
                cosigned_message(text, timestamp)
            )
        else:
            if timestamp is not None:
                raise ValueError(f"a {self.key_type.name} signature takes no timestamp")
            raw = self.sign_bytes(text.encode())
        return Signature(name=self.name, key_id=verifier.key_id, signature=raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedSignature:
    """A signature that verified, by ``key``; ``timestamp`` is set for cosignatures."""

    key: VerifierKey
    timestamp: int | None = None


def _check_text(text: str) -> None:
    bad = next((c for c in text if c < " " and c != "\n"), None)
    if bad is not None:
        raise ValueError(f"note contains control character {bad!r}; only newline is allowed")


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """A signed note: ``text`` (ending in a newline) and one or more signatures."""

    text: str
    signatures: tuple[Signature, ...]

    def __post_init__(self) -> None:
        if not self.text.endswith("\n"):
            raise ValueError("note text must end with a newline")
        _check_text(self.text)
        if not 1 <= len(self.signatures) <= MAX_SIGNATURES:
            raise ValueError(
                f"note has {len(self.signatures)} signatures, want 1 to {MAX_SIGNATURES}"
            )

    @classmethod
    def parse(cls, data: str | bytes) -> Note:
        """Parse a signed note (signed-note §Format); raises `SignatureError` if malformed.

        Nothing is verified here: see `verify`.
        """
        try:
            message = data.decode("utf-8") if isinstance(data, bytes) else data
            _check_text(message)
        except (UnicodeDecodeError, ValueError) as exc:
            raise SignatureError(f"malformed note: {exc}") from exc
        split = message.rfind("\n\n")
        if split < 0:
            raise SignatureError("malformed note: no blank line before the signatures")
        text, block = message[: split + 1], message[split + 2 :]
        if not block.endswith("\n"):
            raise SignatureError("malformed note: signature block must end with a newline")
        lines = block[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise SignatureError(
                f"malformed note: {len(lines)} signatures, want at most {MAX_SIGNATURES}"
            )
        return cls(text=text, signatures=tuple(_parse_signature_line(line) for line in lines))

    def format(self) -> str:
        """The note as text: body, blank line, signature lines."""
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)

    def with_signature(self, signature: Signature) -> Note:
        """This note with ``signature`` added, replacing any by the same key name and ID."""
        kept = tuple(
            s for s in self.signatures if (s.name, s.key_id) != (signature.name, signature.key_id)
        )
        return Note(text=self.text, signatures=(*kept, signature))

    def verify(self, keys: Iterable[VerifierKey]) -> tuple[VerifiedSignature, ...]:
        """Verify the signatures made by ``keys`` (signed-note §Signatures).

        Signatures whose (name, key ID) match no key are ignored; repeats by one key are
        ignored after its first. Raises `SignatureError` if a known key's signature fails
        or no known key signed. ``keys`` sharing a name and key ID are refused
        (``ValueError``): the trust configuration would be ambiguous.
        """
        known: dict[tuple[str, int], VerifierKey] = {}
        for key in keys:
            other = known.setdefault((key.name, key.key_id), key)
            if other != key:
                raise ValueError(f"two different keys share the name and ID {key.reference}")
        verified: dict[tuple[str, int], VerifiedSignature] = {}
        for sig in self.signatures:
            ident = (sig.name, sig.key_id)
            signer = known.get(ident)
            if signer is None or ident in verified:
                continue
            verified[ident] = VerifiedSignature(
                key=signer, timestamp=signer.verify(self.text, sig.signature)
            )
        if not verified:
            found = ", ".join(f"{s.name}+{s.key_id:08x}" for s in self.signatures)
            trusted = ", ".join(k.reference for k in known.values()) or "none"
            raise SignatureError(f"no signature by a known key: found {found}; trusted {trusted}")
        return tuple(verified.values())


def _parse_signature_line(line: str) -> Signature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise SignatureError(f"malformed note: signature line {line!r} must start with '— '")
    name, _, encoded = line.removeprefix(_SIGNATURE_PREFIX).partition(" ")
    try:
        raw = decode_base64(encoded)
        if len(raw) < 5:
            raise ValueError(f"signature is {len(raw)} bytes, want a 4-byte key ID and more")
        return Signature(name=name, key_id=int.from_bytes(raw[:4], "big"), signature=raw[4:])
    except ValueError as exc:
        raise SignatureError(f"malformed note: {exc}") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyId:
    """A signed-note key reference, ``name+hash`` (name and 32-bit key ID).

    The key ID is short: verifiers resolve it only among keys they already trust, and
    refuse two trusted keys with the same reference (as `note.Note.verify` does).
    """

    name: str
    key_hash: int

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if not 0 <= self.key_hash < 2**32:
            raise ValueError(f"key hash is {self.key_hash}, want a uint32")

    @classmethod
    def of(cls, key: VerifierKey) -> KeyId:
        """The reference of ``key``."""
        return cls(name=key.name, key_hash=key.key_id)

    @classmethod
    def parse(cls, text: str) -> KeyId:
        """Parse ``name+hash`` (8 lowercase hex digits); raises ``ValueError``."""
        name, plus, hash_hex = text.rpartition("+")
        if not plus or len(hash_hex) != 8 or hash_hex.strip("0123456789abcdef"):
            raise ValueError(f"key reference {text!r}, want name+8 lowercase hex digits")
        return cls(name=name, key_hash=int(hash_hex, 16))

    def format(self) -> str:
        """``name+hash``."""
        return f"{self.name}+{self.key_hash:08x}"
