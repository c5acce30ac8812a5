"""Ledger records, their canonical JSON, and Ed25519-signed envelopes.

Four record types, each a frozen dataclass whose JSON object carries a ``type``:

- `ProductRecord` (``product/v1``): an item's GS1 identity, the fingerprint template's
  SHA-256 and size, where the fingerprint window sits, signed by the manufacturer.
- `KeyEvent` (``key-event/v1``): a manufacturer key registered, rotated or revoked.
- `VerificationEvent` (``verification/v1``): a scan's verdict, signed by the device.
- `Revocation` (``revocation/v1``): an item withdrawn by its manufacturer.

Encoding is canonical JSON in the style of RFC 8785: object keys sorted, no
insignificant whitespace, UTF-8, and numbers restricted to integers of at most 53 bits.
Fractional values travel as fixed-point decimal strings (``"26.000"``), digests as
lowercase hex, times as integer POSIX seconds, keys as C2SP vkeys and key references
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

import contextlib
import dataclasses
import functools
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from json.encoder import encode_basestring
from typing import Any, ClassVar, TypeAlias, cast

import nacl.exceptions
import nacl.signing

from registry_client.errors import RecordFormatError, SignatureError
from registry_client.item import CSET82, MAX_SERIAL_LENGTH, ItemId, check_gtin
from registry_client.note import (
    KeyType,
    SignerKey,
    VerifierKey,
    check_key_name,
    decode_base64,
    encode_base64,
)

JSONValue: TypeAlias = "bool | int | str | list[JSONValue] | dict[str, JSONValue] | None"

SIGNATURE_CONTEXT = b"Hallmark signed record v1\x00"
"""Prefix of every signed message: domain separation for record signatures."""
MAX_PAYLOAD_SIZE = 8192
"""Largest record payload, in bytes."""
MAX_ENVELOPE_SIZE = 16384
"""Largest encoded envelope, in bytes (well inside a tlog-tiles entry's 65,535)."""
MAX_SAFE_INTEGER = 2**53 - 1
"""Largest magnitude of a JSON integer (RFC 8785 §3.2.2.3, I-JSON)."""
MAX_TEMPLATE_SIZE = 16 * 1024 * 1024
"""Largest fingerprint template, in bytes."""

_ED25519_SIG_SIZE = 64
_MAX_TIME = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
_DIGEST_SIZE = 32
_HEX = re.compile(r"[0-9a-f]{64}")
_SCHEME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CACHE_SIZE = 16_384
"""Parsed envelopes, parsed payloads and signature results remembered (LRU, by bytes)."""
# json.dumps's output for this subset once floats and big integers are refused: keys
# sorted by code point, which for ASCII keys is RFC 8785's UTF-16 order.
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


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


def canonical_json(value: JSONValue) -> bytes:
    """``value`` as canonical JSON (RFC 8785 for this subset): UTF-8 bytes.

    Keys sort by UTF-16 code units, strings escape as ECMAScript ``JSON.stringify``
    does, and numbers must be integers within ±(2^53 − 1). Raises ``ValueError`` for
    floats, out-of-range integers, non-string keys and unpaired surrogates.
    """
    try:
        return _canonical(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"string is not valid Unicode: {exc.reason}") from exc


def _canonical(value: JSONValue) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside ±{MAX_SAFE_INTEGER}")
        return str(value)
    if isinstance(value, str):
        return encode_basestring(value)  # json.dumps(ensure_ascii=False)'s escaping, in C
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("object keys must be strings")
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(f"{_canonical(k)}:{_canonical(value[k])}" for k in keys) + "}"
    raise ValueError(f"{type(value).__name__} has no canonical JSON form; use int or str")


def load_canonical_json(data: bytes, *, limit: int) -> JSONValue:
    """Parse JSON that must already be in canonical form and at most ``limit`` bytes.

    Raises `RecordFormatError` for oversize, non-UTF-8, malformed or duplicate-key JSON,
    floats, and any encoding other than the canonical one.
    """
    if len(data) > limit:
        raise RecordFormatError(f"{len(data)} bytes, want at most {limit}")
    if data.isascii():
        # Fast path, parsed (no floats, integers within ±(2^53 − 1)) and re-encoded in C:
        # for ASCII input every key is ASCII, so code-point order (json's sort_keys) is
        # UTF-16 order, and strings escape with the same encode_basestring. An equal
        # re-encoding is therefore the canonical one; a duplicate key re-encodes
        # shorter. Anything else takes the full check below for its precise reason.
        try:
            fast: JSONValue = _FAST_DECODER.decode(data.decode("ascii"))
            if _FAST_ENCODER.encode(fast).encode("ascii") == data:
                return fast
        except (UnicodeEncodeError, ValueError):
            pass
    try:
        value: JSONValue = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_unique_keys,
            parse_float=_refuse_float,
            parse_constant=_refuse_float,
            parse_int=_safe_int,
        )
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise RecordFormatError(f"not canonical JSON: {exc}") from exc
    try:
        canonical = canonical_json(value)
    except ValueError as exc:
        raise RecordFormatError(f"not canonical JSON: {exc}") from exc
    if canonical != data:
        raise RecordFormatError("JSON is not in canonical form (RFC 8785)")
    return value


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise ValueError(f"integer {value} is outside ±{MAX_SAFE_INTEGER}")
    return value


def _unique_keys(pairs: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate key in {keys}")
    return dict(pairs)


def _refuse_float(text: str) -> None:
    raise ValueError(f"number {text} is not an integer")


_FAST_DECODER = json.JSONDecoder(
    parse_float=_refuse_float, parse_constant=_refuse_float, parse_int=_safe_int
)


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


@functools.lru_cache(maxsize=1024)
def _parse_key_id(text: str) -> KeyId:
    return KeyId.parse(text)  # immutable: the same text gives an equal, shared KeyId


# --- Field codecs: one declaration per field checks, encodes and decodes it -------------


class _Codec:
    """How one field is checked (Python side) and carried in JSON."""

    __slots__ = ()

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` with a reason unless ``value`` is valid."""

    def encode(self, value: Any) -> JSONValue:
        """The JSON form of a checked value."""
        return cast("JSONValue", value)

    def decode(self, value: JSONValue) -> Any:
        """The Python value of a JSON form; `check` runs afterwards on construction."""
        return value


@dataclass(frozen=True, slots=True)
class _Text(_Codec):
    max_len: int
    pattern: re.Pattern[str] | None = None

    def check(self, value: Any) -> None:
        if not isinstance(value, str):
            raise ValueError(f"got {type(value).__name__}, want a string")
        if not 1 <= len(value) <= self.max_len:
            raise ValueError(f"{len(value)} characters, want 1 to {self.max_len}")
        if _CONTROL.search(value):
            raise ValueError(f"{value!r} contains a control character")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise ValueError(f"{value!r} has characters outside {self.pattern.pattern}")


class _Gtin(_Codec):
    __slots__ = ()

    def check(self, value: Any) -> None:
        check_gtin(value)


@dataclass(frozen=True, slots=True)
class _Int(_Codec):
    low: int
    high: int

    def check(self, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"got {type(value).__name__}, want an integer")
        if not self.low <= value <= self.high:
            raise ValueError(f"{value}, want {self.low} to {self.high}")


@dataclass(frozen=True, slots=True)
class _Fixed(_Codec):
    """A float carried as a decimal string with exactly ``places`` fractional digits."""

    places: int
    low: float
    high: float

    def check(self, value: Any) -> None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"got {type(value).__name__}, want a number")
        if not self.low <= value <= self.high:
            raise ValueError(f"{value}, want {self.low} to {self.high}")
        if float(self._text(value)) != value:
            raise ValueError(f"{value} has more than {self.places} decimal places")

    def _text(self, value: float) -> str:
        text = f"{value:.{self.places}f}"
        return text.removeprefix("-") if float(text) == 0 else text  # no "-0.000"

    def encode(self, value: Any) -> JSONValue:
        return self._text(value)

    def decode(self, value: JSONValue) -> Any:
        if not isinstance(value, str) or not _decimal_pattern(self.places).fullmatch(value):
            raise ValueError(f"{value!r}, want a decimal string with {self.places} places")
        if value != self._text(float(value)):
            raise ValueError(f"{value!r} is not canonical, want {self._text(float(value))!r}")
        return float(value)


@functools.lru_cache(maxsize=16)
def _decimal_pattern(places: int) -> re.Pattern[str]:
    return re.compile(rf"-?(0|[1-9][0-9]*)\.[0-9]{{{places}}}")


class _Digest(_Codec):
    __slots__ = ()

    def check(self, value: Any) -> None:
        if not isinstance(value, bytes) or len(value) != _DIGEST_SIZE:
            raise ValueError(f"got {value!r:.40}, want {_DIGEST_SIZE} bytes of SHA-256")

    def encode(self, value: Any) -> JSONValue:
        return bytes(value).hex()

    def decode(self, value: JSONValue) -> Any:
        if not isinstance(value, str) or not _HEX.fullmatch(value):
            raise ValueError(f"{value!r}, want 64 lowercase hex digits")
        return bytes.fromhex(value)


@dataclass(frozen=True, slots=True)
class _Base64(_Codec):
    min_len: int
    max_len: int

    def check(self, value: Any) -> None:
        if not isinstance(value, bytes):
            raise ValueError(f"got {type(value).__name__}, want bytes")
        if not self.min_len <= len(value) <= self.max_len:
            raise ValueError(f"{len(value)} bytes, want {self.min_len} to {self.max_len}")

    def encode(self, value: Any) -> JSONValue:
        return encode_base64(value)

    def decode(self, value: JSONValue) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"got {value!r:.40}, want base64 text")
        return decode_base64(value)


class _Time(_Codec):
    """A UTC ``datetime`` to the second, carried as integer POSIX seconds."""

    __slots__ = ()

    def check(self, value: Any) -> None:
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError(f"got {value!r}, want a timezone-aware datetime")
        if value.utcoffset() or value.microsecond or value.year < 1970:
            raise ValueError(f"{value.isoformat()}, want whole seconds in UTC since 1970")

    def encode(self, value: Any) -> JSONValue:
        return int(value.timestamp())

    def decode(self, value: JSONValue) -> Any:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_TIME:
            raise ValueError(f"{value!r}, want POSIX seconds from 0 to {_MAX_TIME}")
        return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, slots=True)
class _Choice(_Codec):
    enum: type[StrEnum]

    def check(self, value: Any) -> None:
        if not isinstance(value, self.enum):
            raise ValueError(f"got {value!r}, want one of {[e.value for e in self.enum]}")

    def decode(self, value: JSONValue) -> Any:
        for member in self.enum:
            if member.value == value:
                return member
        raise ValueError(f"{value!r}, want one of {[e.value for e in self.enum]}")


class _KeyRef(_Codec):
    __slots__ = ()

    def check(self, value: Any) -> None:
        if not isinstance(value, KeyId):
            raise ValueError(f"got {value!r}, want a KeyId")

    def encode(self, value: Any) -> JSONValue:
        return str(value.format())

    def decode(self, value: JSONValue) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"got {value!r}, want name+hash text")
        return _parse_key_id(value)


class _VKey(_Codec):
    __slots__ = ()

    def check(self, value: Any) -> None:
        if not isinstance(value, VerifierKey):
            raise ValueError(f"got {value!r}, want a VerifierKey")
        value.check_type(KeyType.ED25519, "manufacturer")

    def encode(self, value: Any) -> JSONValue:
        return str(value.format())

    def decode(self, value: JSONValue) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"got {value!r}, want vkey text")
        try:
            return VerifierKey.parse(value)
        except RecordFormatError as exc:
            raise ValueError(exc.reason) from exc


@dataclass(frozen=True, slots=True)
class _Optional(_Codec):
    inner: _Codec

    def check(self, value: Any) -> None:
        if value is not None:
            self.inner.check(value)

    def encode(self, value: Any) -> JSONValue:
        return None if value is None else self.inner.encode(value)

    def decode(self, value: JSONValue) -> Any:
        return None if value is None else self.inner.decode(value)


@dataclass(frozen=True, slots=True)
class _Nested(_Codec):
    cls: type[Any]

    def check(self, value: Any) -> None:
        if not isinstance(value, self.cls):
            raise ValueError(f"got {value!r}, want a {self.cls.__name__}")

    def encode(self, value: Any) -> JSONValue:
        return _encode_fields(value)

    def decode(self, value: JSONValue) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"got {value!r}, want an object")
        if all(isinstance(v, str) for v in value.values()):  # remembered: immutable
            return _decode_flat(self, tuple(sorted(cast("dict[str, str]", value).items())))
        return _decode_fields(self.cls, value)


@functools.lru_cache(maxsize=1024)
def _decode_flat(codec: _Nested, items: tuple[tuple[str, str], ...]) -> Any:
    """A nested object of string fields (a `Region`), decoded once per distinct value."""
    return _decode_fields(codec.cls, dict(items))


class _FieldError(ValueError):
    """A field failed its check: a ``ValueError`` that remembers which field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _codec(codec: _Codec) -> dict[str, _Codec]:
    """Field metadata naming the field's codec."""
    return {"codec": codec}


_CODECS: dict[type[Any], dict[str, _Codec]] = {}


def _codecs(cls: type[Any]) -> dict[str, _Codec]:
    """The codec of each field of dataclass ``cls``, in field order (memoised)."""
    if cls not in _CODECS:
        _CODECS[cls] = {
            f.name: f.metadata["codec"] for f in dataclasses.fields(cls) if "codec" in f.metadata
        }
    return _CODECS[cls]


def _check_fields(obj: Any) -> None:
    for name, codec in _codecs(type(obj)).items():
        try:
            codec.check(getattr(obj, name))
        except ValueError as exc:
            raise _FieldError(name, str(exc)) from exc


def _encode_fields(obj: Any) -> dict[str, JSONValue]:
    return {name: codec.encode(getattr(obj, name)) for name, codec in _codecs(type(obj)).items()}


def _decode_fields(cls: type[Any], obj: Mapping[str, JSONValue]) -> Any:
    codecs = _codecs(cls)
    if unknown := sorted(obj.keys() - codecs.keys()):
        raise _FieldError(unknown[0], "unknown field")
    if missing := sorted(codecs.keys() - obj.keys()):
        raise _FieldError(missing[0], "missing field")
    values = {}
    for name, codec in codecs.items():
        try:
            values[name] = codec.decode(obj[name])
        except _FieldError as exc:
            raise _FieldError(f"{name}.{exc.field}", exc.reason) from exc
        except ValueError as exc:
            raise _FieldError(name, str(exc)) from exc
    return cls(**values)


# --- Records ----------------------------------------------------------------------------

_GS1_TEXT = _Text(MAX_SERIAL_LENGTH, CSET82)
_REGION_VALUE = _Fixed(3, -10_000.0, 10_000.0)
_REGION_SIZE = _Fixed(3, 0.001, 10_000.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """The fingerprint window in code-module units: top-left ``x``, ``y`` and size.

    Values are multiples of 0.001 module, carried as decimal strings (``"26.000"``).
    """

    x: float = field(metadata=_codec(_REGION_VALUE))
    y: float = field(metadata=_codec(_REGION_VALUE))
    width: float = field(metadata=_codec(_REGION_SIZE))
    height: float = field(metadata=_codec(_REGION_SIZE))

    def __post_init__(self) -> None:
        _check_fields(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductRecord:
    """An item registered by its manufacturer, who signs it.

    ``gtin`` is the 14-digit GS1 GTIN (AI 01) and ``serial`` its serial (AI 21);
    ``template_sha256`` and ``template_size`` identify the fingerprint template blob,
    made by ``scheme`` version ``scheme_version``.
    """

    TYPE: ClassVar[RecordType] = RecordType.PRODUCT

    gtin: str = field(metadata=_codec(_Gtin()))
    serial: str = field(metadata=_codec(_GS1_TEXT))
    batch: str | None = field(metadata=_codec(_Optional(_GS1_TEXT)))
    sku: str | None = field(metadata=_codec(_Optional(_Text(64))))
    scheme: str = field(metadata=_codec(_Text(32, _SCHEME)))
    scheme_version: int = field(metadata=_codec(_Int(1, 65_535)))
    template_sha256: bytes = field(metadata=_codec(_Digest()))
    template_size: int = field(metadata=_codec(_Int(1, MAX_TEMPLATE_SIZE)))
    region: Region = field(metadata=_codec(_Nested(Region)))
    hologram_sha256: bytes | None = field(metadata=_codec(_Optional(_Digest())))
    manufacturer: KeyId = field(metadata=_codec(_KeyRef()))
    time: datetime = field(metadata=_codec(_Time()))

    def __post_init__(self) -> None:
        _check_fields(self)

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

    action: KeyAction = field(metadata=_codec(_Choice(KeyAction)))
    key: VerifierKey = field(metadata=_codec(_VKey()))
    previous: KeyId | None = field(metadata=_codec(_Optional(_KeyRef())))
    time: datetime = field(metadata=_codec(_Time()))

    def __post_init__(self) -> None:
        _check_fields(self)
        if self.action is KeyAction.ROTATE and self.previous is None:
            raise _FieldError("previous", "a rotation must name the key it replaces")
        if self.action is not KeyAction.ROTATE and self.previous is not None:
            raise _FieldError(
                "previous", f"only a rotation names a previous key, got {self.action}"
            )
        if self.previous == KeyId.of(self.key):
            raise _FieldError("previous", "a key cannot replace itself")

    @property
    def signer(self) -> KeyId:
        """A rotation is signed by the key it replaces; otherwise by the key itself."""
        return self.previous if self.previous is not None else KeyId.of(self.key)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationEvent:
    """A scan of item ``gtin``/``serial`` by ``device``, who signs it."""

    TYPE: ClassVar[RecordType] = RecordType.VERIFICATION

    device: KeyId = field(metadata=_codec(_KeyRef()))
    gtin: str = field(metadata=_codec(_Gtin()))
    serial: str = field(metadata=_codec(_GS1_TEXT))
    place: str | None = field(metadata=_codec(_Optional(_Text(128))))
    time: datetime = field(metadata=_codec(_Time()))
    verdict: Verdict = field(metadata=_codec(_Choice(Verdict)))
    score: float = field(metadata=_codec(_Fixed(4, -1_000_000.0, 1_000_000.0)))
    scheme: str = field(metadata=_codec(_Text(32, _SCHEME)))
    scheme_version: int = field(metadata=_codec(_Int(1, 65_535)))

    def __post_init__(self) -> None:
        _check_fields(self)

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

    gtin: str = field(metadata=_codec(_Gtin()))
    serial: str = field(metadata=_codec(_GS1_TEXT))
    reason: str = field(metadata=_codec(_Text(256)))
    manufacturer: KeyId = field(metadata=_codec(_KeyRef()))
    time: datetime = field(metadata=_codec(_Time()))

    def __post_init__(self) -> None:
        _check_fields(self)

    @property
    def signer(self) -> KeyId:
        """The manufacturer signs revocations."""
        return self.manufacturer

    @property
    def item(self) -> ItemId:
        """The item this record is about (GTIN and serial)."""
        return ItemId(gtin=self.gtin, serial=self.serial)


Record: TypeAlias = ProductRecord | KeyEvent | VerificationEvent | Revocation
_RECORD_TYPES: dict[RecordType, type[Record]] = {
    cls.TYPE: cls for cls in (ProductRecord, KeyEvent, VerificationEvent, Revocation)
}


def encode_record(record: Record) -> bytes:
    """The record's canonical JSON payload, with its ``type``."""
    return canonical_json({"type": record.TYPE.value, **_encode_fields(record)})


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
    if not isinstance(kind, str) or kind not in _RECORD_TYPES:
        raise RecordFormatError(
            f"{kind!r}, want one of {[t.value for t in RecordType]}", field="type"
        )
    record: Record = _decode_object(_RECORD_TYPES[RecordType(kind)], fields)
    return record


def _decode_object(cls: type[Any], value: JSONValue) -> Any:
    """``cls`` built from a JSON object, or `RecordFormatError` naming field and reason."""
    if not isinstance(value, dict):
        raise RecordFormatError(f"{cls.__name__} must be a JSON object")
    try:
        return _decode_fields(cls, value)
    except _FieldError as exc:
        raise RecordFormatError(exc.reason, field=exc.field) from exc


# --- Signing ----------------------------------------------------------------------------


def _signed_message(payload: bytes) -> bytes:
    return SIGNATURE_CONTEXT + payload


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedEnvelope:
    """A record payload, the reference of the key that signed it, and the signature.

    Its canonical JSON (``payload`` and ``signature`` in base64, ``signer`` as
    ``name+hash``) is what a ledger entry holds.
    """

    payload: bytes = field(metadata=_codec(_Base64(1, MAX_PAYLOAD_SIZE)))
    signer: KeyId = field(metadata=_codec(_KeyRef()))
    signature: bytes = field(metadata=_codec(_Base64(_ED25519_SIG_SIZE, _ED25519_SIG_SIZE)))
    _canonical: bytes | None = field(default=None, init=False, repr=False, compare=False)
    """`format`'s answer, remembered (the envelope is immutable)."""

    def __post_init__(self) -> None:
        _check_fields(self)

    @classmethod
    def parse(cls, data: bytes) -> SignedEnvelope:
        """Parse an envelope's canonical JSON; no signature is checked here (see `open`).

        Raises `RecordFormatError` with the field and reason.
        """
        if cls is not SignedEnvelope:
            envelope: SignedEnvelope = _decode_object(
                cls, load_canonical_json(data, limit=MAX_ENVELOPE_SIZE)
            )
            return envelope
        return _parse_envelope(bytes(data))

    def format(self) -> bytes:
        """The envelope as canonical JSON."""
        if self._canonical is None:
            object.__setattr__(self, "_canonical", canonical_json(_encode_fields(self)))
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
        if not _signature_valid(key.public_key, self.payload, self.signature):
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


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_envelope(data: bytes) -> SignedEnvelope:
    envelope: SignedEnvelope = _decode_object(
        SignedEnvelope, load_canonical_json(data, limit=MAX_ENVELOPE_SIZE)
    )
    # Canonical JSON of canonically encoded fields: formatting gives these bytes back.
    object.__setattr__(envelope, "_canonical", data)
    return envelope


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _signature_valid(public_key: bytes, payload: bytes, signature: bytes) -> bool:
    """Whether ``signature`` by Ed25519 ``public_key`` covers ``payload`` (remembered).

    The answer depends only on the three byte strings, so remembering it checks nothing
    less; PyNaCl releases the GIL while it verifies, so threads can share the work.
    """
    try:
        _verify_key(public_key).verify(_signed_message(payload), signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


@functools.lru_cache(maxsize=256)
def _verify_key(public_key: bytes) -> nacl.signing.VerifyKey:
    return nacl.signing.VerifyKey(public_key)


_POOL_MUTEX = threading.Lock()
_POOL: list[ThreadPoolExecutor] = []
_BATCH_CHUNK = 64


def _pool() -> ThreadPoolExecutor:
    with _POOL_MUTEX:
        if not _POOL:
            workers = max(2, min(8, os.cpu_count() or 2))
            _POOL.append(ThreadPoolExecutor(workers, thread_name_prefix="record-verify"))
        return _POOL[0]


def clear_caches() -> None:
    """Forget remembered parses and signature results (benchmarks measure cold checks)."""
    _parse_record.cache_clear()
    _parse_envelope.cache_clear()
    _signature_valid.cache_clear()


def check_signatures(envelopes: Sequence[SignedEnvelope], keys: Iterable[VerifierKey]) -> None:
    """Verify the signatures of ``envelopes`` by trusted ``keys`` on a thread pool.

    Nothing is raised or skipped: the results are remembered, so the `SignedEnvelope.open`
    of each envelope that follows (which makes every check itself, signature included)
    finds its answer ready. Worth calling before opening a batch: PyNaCl releases the
    GIL, so the batch's Ed25519 checks run on every core, while this thread parses the
    payloads (remembered too; a malformed one is left for `open` to report).
    """
    by_id: dict[KeyId, list[bytes]] = {}
    for key in keys:
        if key.key_type is KeyType.ED25519:
            by_id.setdefault(KeyId.of(key), []).append(key.public_key)
    jobs = [
        (found[0], e.payload, e.signature)
        for e in envelopes
        if len(found := by_id.get(e.signer, [])) == 1
    ]
    if len(jobs) < 2 * _BATCH_CHUNK:
        return  # not worth the hand-off; `open` verifies each in turn

    def run(chunk: Sequence[tuple[bytes, bytes, bytes]]) -> None:
        for public_key, payload, signature in chunk:
            _signature_valid(public_key, payload, signature)

    chunks = [jobs[i : i + _BATCH_CHUNK] for i in range(0, len(jobs), _BATCH_CHUNK)]
    futures = [_pool().submit(run, chunk) for chunk in chunks]
    for envelope in envelopes:
        with contextlib.suppress(RecordFormatError):
            parse_record(envelope.payload)
    for future in futures:
        future.result()


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
