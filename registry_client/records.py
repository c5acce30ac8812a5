"""Ledger records, their canonical JSON, and Ed25519-signed envelopes.

Four record types, each a frozen dataclass whose JSON object carries a ``type``:

- `ProductRecord` (``product/v1``): an item's GS1 identity, the fingerprint template's
  SHA-256 and size, where the fingerprint window sits, signed by the manufacturer.
- `KeyEvent` (``key-event/v1``): a manufacturer key registered, rotated or revoked.
- `VerificationEvent` (``verification/v1``): a scan's verdict, signed by the device.
- `Revocation` (``revocation/v1``): an item withdrawn by its manufacturer.

Encoding is canonical JSON (`canonical`, RFC 8785 style) of fields each declared with
its codec (`_codecs`): fractions as fixed-point decimal strings (``"26.000"``), digests
as lowercase hex, times as integer POSIX seconds, keys as C2SP vkeys and key references
as ``name+hash``. `parse_record` accepts only that canonical form, so a record has
exactly one encoding.

A `SignedEnvelope` holds the payload bytes, the signer's key reference and an Ed25519
signature over ``SIGNATURE_CONTEXT ‖ payload``. The context contains a NUL byte, which
no signed note may contain, so a record signature can never pass for a note signature
by the same key, nor the reverse.

References
----------
RFC 8785, JSON Canonicalization Scheme (2020). RFC 8032, EdDSA (2017).
GS1 General Specifications §3.2 (AI 01, 10, 21), §7.9 (check digits), §7.11 (CSET 82).
https://c2sp.org/signed-note (key names and IDs).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, TypeAlias

from registry_client._codecs import (
    Base64,
    Choice,
    Digest,
    FieldError,
    Fixed,
    Gtin,
    Int,
    KeyRef,
    Maybe,
    Nested,
    Text,
    Time,
    VKey,
    check_fields,
    decode_object,
    encode_fields,
    field_codec,
)
from registry_client.canonical import JSONValue, canonical_json, load_canonical_json
from registry_client.errors import RecordFormatError, SignatureError
from registry_client.item import CSET82, MAX_SERIAL_LENGTH, ItemId
from registry_client.note import KeyId, KeyType, SignerKey, VerifierKey
from registry_client.signatures import CheckedAhead, signature_valid
from registry_client.signatures import forget as forget_signatures

__all__ = [
    "MAX_ENVELOPE_SIZE",
    "MAX_PAYLOAD_SIZE",
    "MAX_TEMPLATE_SIZE",
    "SIGNATURE_CONTEXT",
    "KeyAction",
    "KeyEvent",
    "KeyId",
    "ProductRecord",
    "Record",
    "RecordType",
    "Region",
    "Revocation",
    "SignedEnvelope",
    "Signer",
    "Verdict",
    "VerificationEvent",
    "canonical_json",
    "check_ahead",
    "clear_caches",
    "encode_record",
    "generate_key",
    "load_canonical_json",
    "parse_record",
]
"""The record API; `KeyId` and the canonical JSON functions are also exported from here,
where they lived before `note` and `canonical` took them."""

SIGNATURE_CONTEXT = b"Hallmark signed record v1\x00"
"""Prefix of every signed message: domain separation for record signatures."""
MAX_PAYLOAD_SIZE = 8192
"""Largest record payload, in bytes."""
MAX_ENVELOPE_SIZE = 16384
"""Largest encoded envelope, in bytes (well inside a tlog-tiles entry's 65,535)."""
MAX_TEMPLATE_SIZE = 16 * 1024 * 1024
"""Largest fingerprint template, in bytes."""

_ED25519_SIG_SIZE = 64
_SCHEME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_CACHE_SIZE = 16_384
"""Parsed envelopes and payloads remembered (LRU, by bytes; signature answers: `signatures`)."""


class RecordType(StrEnum):
    """The ``type`` of each record's JSON object."""

    PRODUCT = "product/v1"
    KEY_EVENT = "key-event/v1"
    VERIFICATION = "verification/v1"
    REVOCATION = "revocation/v1"


class KeyAction(StrEnum):
    """What a `KeyEvent` does to a manufacturer key."""

    REGISTER = "register"
    ROTATE = "rotate"
    REVOKE = "revoke"


class Verdict(StrEnum):
    """The outcome a `VerificationEvent` reports."""

    GENUINE = "genuine"
    COUNTERFEIT = "counterfeit"
    RETAKE = "retake"


# --- Records ----------------------------------------------------------------------------

_GS1_TEXT = Text(MAX_SERIAL_LENGTH, CSET82)
_REGION_VALUE = Fixed(3, -10_000.0, 10_000.0)
_REGION_SIZE = Fixed(3, 0.001, 10_000.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """The fingerprint window in code-module units: top-left ``x``, ``y`` and size.

    Values are multiples of 0.001 module, carried as decimal strings (``"26.000"``).
    """

    x: float = field(metadata=field_codec(_REGION_VALUE))
    y: float = field(metadata=field_codec(_REGION_VALUE))
    width: float = field(metadata=field_codec(_REGION_SIZE))
    height: float = field(metadata=field_codec(_REGION_SIZE))

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRecord:
    """An item registered by its manufacturer, who signs it.

    ``gtin`` is the 14-digit GS1 GTIN (AI 01) and ``serial`` its serial (AI 21);
    ``template_sha256`` and ``template_size`` identify the fingerprint template blob,
    made by ``scheme`` version ``scheme_version``.
    """

    TYPE: ClassVar[RecordType] = RecordType.PRODUCT

    gtin: str = field(metadata=field_codec(Gtin()))
    serial: str = field(metadata=field_codec(_GS1_TEXT))
    batch: str | None = field(metadata=field_codec(Maybe(_GS1_TEXT)))
    sku: str | None = field(metadata=field_codec(Maybe(Text(64))))
    scheme: str = field(metadata=field_codec(Text(32, _SCHEME)))
    scheme_version: int = field(metadata=field_codec(Int(1, 65_535)))
    template_sha256: bytes = field(metadata=field_codec(Digest()))
    template_size: int = field(metadata=field_codec(Int(1, MAX_TEMPLATE_SIZE)))
    region: Region = field(metadata=field_codec(Nested(Region)))
    hologram_sha256: bytes | None = field(metadata=field_codec(Maybe(Digest())))
    manufacturer: KeyId = field(metadata=field_codec(KeyRef()))
    time: datetime = field(metadata=field_codec(Time()))

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def signer(self) -> KeyId:
        """The manufacturer signs product records."""
        return self.manufacturer

    @property
    def item(self) -> ItemId:
        """The item this record is about (GTIN and serial)."""
        return ItemId(gtin=self.gtin, serial=self.serial)


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyEvent:
    """A manufacturer key registered, rotated or revoked, signed as `signer` says.

    A rotation names the key it replaces in ``previous``; the others must not.
    """

    TYPE: ClassVar[RecordType] = RecordType.KEY_EVENT

    action: KeyAction = field(metadata=field_codec(Choice(KeyAction)))
    key: VerifierKey = field(metadata=field_codec(VKey()))
    previous: KeyId | None = field(metadata=field_codec(Maybe(KeyRef())))
    time: datetime = field(metadata=field_codec(Time()))

    def __post_init__(self) -> None:
        check_fields(self)
        if self.action is KeyAction.ROTATE and self.previous is None:
            raise FieldError("previous", "a rotation must name the key it replaces")
        if self.action is not KeyAction.ROTATE and self.previous is not None:
            raise FieldError("previous", f"only a rotation names a previous key, got {self.action}")
        if self.previous == KeyId.of(self.key):
            raise FieldError("previous", "a key cannot replace itself")

    @property
    def signer(self) -> KeyId:
        """A rotation is signed by the key it replaces; otherwise by the key itself."""
        return self.previous if self.previous is not None else KeyId.of(self.key)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationEvent:
    """A scan of item ``gtin``/``serial`` by ``device``, who signs it."""

    TYPE: ClassVar[RecordType] = RecordType.VERIFICATION

    device: KeyId = field(metadata=field_codec(KeyRef()))
    gtin: str = field(metadata=field_codec(Gtin()))
    serial: str = field(metadata=field_codec(_GS1_TEXT))
    place: str | None = field(metadata=field_codec(Maybe(Text(128))))
    time: datetime = field(metadata=field_codec(Time()))
    verdict: Verdict = field(metadata=field_codec(Choice(Verdict)))
    score: float = field(metadata=field_codec(Fixed(4, -1_000_000.0, 1_000_000.0)))
    scheme: str = field(metadata=field_codec(Text(32, _SCHEME)))
    scheme_version: int = field(metadata=field_codec(Int(1, 65_535)))

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def signer(self) -> KeyId:
        """The scanning device signs its events."""
        return self.device

    @property
    def item(self) -> ItemId:
        """The item this record is about (GTIN and serial)."""
        return ItemId(gtin=self.gtin, serial=self.serial)


@dataclass(frozen=True, slots=True, kw_only=True)
class Revocation:
    """Item ``gtin``/``serial`` withdrawn by its manufacturer, for ``reason``."""

    TYPE: ClassVar[RecordType] = RecordType.REVOCATION

    gtin: str = field(metadata=field_codec(Gtin()))
    serial: str = field(metadata=field_codec(_GS1_TEXT))
    reason: str = field(metadata=field_codec(Text(256)))
    manufacturer: KeyId = field(metadata=field_codec(KeyRef()))
    time: datetime = field(metadata=field_codec(Time()))

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def signer(self) -> KeyId:
        """The manufacturer signs revocations."""
        return self.manufacturer

    @property
    def item(self) -> ItemId:
        """The item this record is about (GTIN and serial)."""
        return ItemId(gtin=self.gtin, serial=self.serial)


Record: TypeAlias = ProductRecord | KeyEvent | VerificationEvent | Revocation
_RECORD_TYPES: dict[str, type[Record]] = {
    cls.TYPE: cls for cls in (ProductRecord, KeyEvent, VerificationEvent, Revocation)
}


def encode_record(record: Record) -> bytes:
    """The record's canonical JSON payload, with its ``type``."""
    return canonical_json({"type": record.TYPE.value, **encode_fields(record)})


def parse_record(payload: bytes) -> Record:
    """A validated record from its canonical JSON payload.

    Raises `RecordFormatError` naming the field and reason: unknown or missing fields,
    wrong types, bad GTIN check digits, non-canonical or oversize JSON. Records are
    immutable, so the same payload bytes give the same (remembered) object.
    """
    return _parse_record(bytes(payload))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_record(payload: bytes) -> Record:
    value = load_canonical_json(payload, limit=MAX_PAYLOAD_SIZE)
    if not isinstance(value, dict):
        raise RecordFormatError("record must be a JSON object")
    fields = dict(value)
    kind = fields.pop("type", None)
    cls = _RECORD_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise RecordFormatError(
            f"{kind!r}, want one of {[t.value for t in RecordType]}", field="type"
        )
    record: Record = decode_object(cls, fields)
    return record


# --- Signing ----------------------------------------------------------------------------


def _signed_message(payload: bytes) -> bytes:
    return SIGNATURE_CONTEXT + payload


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedEnvelope:
    """A record payload, the reference of the key that signed it, and the signature.

    Its canonical JSON (``payload`` and ``signature`` in base64, ``signer`` as
    ``name+hash``) is what a ledger entry holds.
    """

    payload: bytes = field(metadata=field_codec(Base64(1, MAX_PAYLOAD_SIZE)))
    signer: KeyId = field(metadata=field_codec(KeyRef()))
    signature: bytes = field(metadata=field_codec(Base64(_ED25519_SIG_SIZE, _ED25519_SIG_SIZE)))
    _canonical: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """`format`'s answer, remembered (the envelope is immutable)."""

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def parse(cls, data: bytes) -> SignedEnvelope:
        """Parse an envelope's canonical JSON; no signature is checked here (see `open`).

        Raises `RecordFormatError` with the field and reason.
        """
        if cls is not SignedEnvelope:
            envelope: SignedEnvelope = decode_object(
                cls, load_canonical_json(data, limit=MAX_ENVELOPE_SIZE)
            )
            return envelope
        return _parse_envelope(bytes(data))

    def format(self) -> bytes:
        """The envelope as canonical JSON."""
        if self._canonical is None:
            object.__setattr__(self, "_canonical", canonical_json(encode_fields(self)))
        assert self._canonical is not None
        return self._canonical

    def open(self, keys: Iterable[VerifierKey]) -> Record:
        """Verify the signature with the trusted key named by `signer` and parse the record.

        Raises `SignatureError` if the signer is not among ``keys``, the signature fails,
        or the record names a different signer than the envelope (a product must be
        signed by its own manufacturer); `RecordFormatError` if the payload is malformed.
        Whether the key is revoked is for the caller's key history to decide.
        """
        signer = self.signer
        matches = {k for k in keys if k.name == signer.name and k.key_id == signer.key_hash}
        if len(matches) > 1:
            raise ValueError(
                f"two different trusted keys share the reference {self.signer.format()}"
            )
        if not matches:
            raise SignatureError(
                f"record signer {self.signer.format()} is not a trusted key",
                key=self.signer.format(),
            )
        (key,) = matches
        if key.key_type is not KeyType.ED25519:
            raise SignatureError(
                f"key {key.reference} is not an Ed25519 record key", key=key.reference
            )
        if not signature_valid(key.public_key, _signed_message(self.payload), self.signature):
            raise SignatureError(
                f"record signature by {key.reference} does not verify", key=key.reference
            )
        record = parse_record(self.payload)
        if record.signer != self.signer:
            raise SignatureError(
                f"record must be signed by {record.signer.format()}, "
                f"got a signature by {self.signer.format()}",
                key=self.signer.format(),
            )
        return record


# The canonical form of an envelope whose signer is printable ASCII with no quote or
# backslash (every key name in practice): its three strings need no escapes, and the
# keys come in sorted order. Anything else takes the general path.
_PLAIN_ENVELOPE = re.compile(
    rb'\{"payload":"([A-Za-z0-9+/]*={0,2})","signature":"([A-Za-z0-9+/]*={0,2})",'
    rb'"signer":"([\x20\x21\x23-\x5b\x5d-\x7e]*)"\}'
)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_envelope(data: bytes) -> SignedEnvelope:
    plain = _PLAIN_ENVELOPE.fullmatch(data) if len(data) <= MAX_ENVELOPE_SIZE else None
    value: JSONValue
    if plain is not None:  # the object the general path would load, strings unescaped
        payload, signature, signer = (text.decode("ascii") for text in plain.groups())
        value = {"payload": payload, "signature": signature, "signer": signer}
    else:
        value = load_canonical_json(data, limit=MAX_ENVELOPE_SIZE)
    envelope: SignedEnvelope = decode_object(SignedEnvelope, value)
    # Canonical JSON of canonically encoded fields: formatting gives these bytes back.
    object.__setattr__(envelope, "_canonical", data)
    return envelope


def clear_caches() -> None:
    """Forget remembered parses and signature results (benchmarks measure cold checks)."""
    _parse_record.cache_clear()
    _parse_envelope.cache_clear()
    forget_signatures()


def check_ahead(envelopes: Sequence[SignedEnvelope], keys: Iterable[VerifierKey]) -> CheckedAhead:
    """Start checking the signatures of ``envelopes`` by trusted ``keys`` on a pool.

    Nothing is raised or skipped: ``wait(n)`` on the answer returns once the first ``n``
    are checked, and the `SignedEnvelope.open` of each (which makes every check itself)
    then finds its signature's answer ready. An envelope whose signer names no key, or
    an ambiguous one, is left for `open` to refuse.
    """
    by_id: dict[KeyId, list[bytes]] = {}
    for key in keys:
        if key.key_type is KeyType.ED25519:
            by_id.setdefault(KeyId.of(key), []).append(key.public_key)
    unique = {key_id: found[0] for key_id, found in by_id.items() if len(found) == 1}
    return CheckedAhead(
        [
            (public, _signed_message(e.payload), e.signature)
            if (public := unique.get(e.signer))
            else None
            for e in envelopes
        ]
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Signer:
    """Signs records with one Ed25519 key (a C2SP signed-note key of type 0x01)."""

    key: SignerKey

    def __post_init__(self) -> None:
        if self.key.key_type is not KeyType.ED25519:
            raise ValueError(f"record keys are ED25519, got {self.key.key_type.name}")

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> Signer:
        """A signer for key ``name`` from a 32-byte Ed25519 seed."""
        return cls(key=SignerKey(name=name, key_type=KeyType.ED25519, seed=seed))

    @classmethod
    def from_skey(cls, text: str) -> Signer:
        """A signer from ``PRIVATE+KEY+…`` text; raises `RecordFormatError`."""
        return cls(key=SignerKey.parse(text))

    @property
    def verifier(self) -> VerifierKey:
        """The public key, to publish as a vkey."""
        return self.key.verifier

    @property
    def key_id(self) -> KeyId:
        """This key's ``name+hash`` reference."""
        return KeyId.of(self.verifier)

    def sign(self, record: Record) -> SignedEnvelope:
        """Encode and sign ``record``, which must name this key as its signer."""
        if record.signer != self.key_id:
            raise ValueError(
                f"record must be signed by {record.signer.format()}, this is {self.key_id.format()}"
            )
        payload = encode_record(record)
        return SignedEnvelope(
            payload=payload,
            signer=self.key_id,
            signature=self.key.sign_bytes(_signed_message(payload)),
        )


def generate_key(name: str) -> Signer:
    """A new random record-signing key named ``name``."""
    return Signer(key=SignerKey.generate(name))
