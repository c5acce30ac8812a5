"""Record fields: each declares one codec that checks, encodes and decodes its value.

A record class names its field's codec in the field's metadata (`field_codec`);
`check_fields` runs every check (from ``__post_init__``), `encode_fields` gives the JSON
object, `decode_fields` builds the class back from one, and `decode_object` reports a
failure as a `RecordFormatError` naming the field. Values travel as: digests lowercase
hex, times integer POSIX seconds, fractions fixed-point decimal strings, keys C2SP
vkeys, key references ``name+hash``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, cast

from registry_client.canonical import JSONValue
from registry_client.errors import RecordFormatError
from registry_client.item import check_gtin
from registry_client.note import KeyId, KeyType, VerifierKey, decode_base64, encode_base64

_MAX_TIME = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
_DIGEST_SIZE = 32
_HEX = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Codec:
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
class Text(Codec):
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


class Gtin(Codec):
    __slots__ = ()

    def check(self, value: Any) -> None:
        check_gtin(value)


@dataclass(frozen=True, slots=True)
class Int(Codec):
    low: int
    high: int

    def check(self, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"got {type(value).__name__}, want an integer")
        if not self.low <= value <= self.high:
            raise ValueError(f"{value}, want {self.low} to {self.high}")


@dataclass(frozen=True, slots=True)
class Fixed(Codec):
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


class Digest(Codec):
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
class Base64(Codec):
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


class Time(Codec):
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
class Choice(Codec):
    enum: type[StrEnum]

    def check(self, value: Any) -> None:
        if not isinstance(value, self.enum):
            raise ValueError(f"got {value!r}, want one of {[e.value for e in self.enum]}")

    def decode(self, value: JSONValue) -> Any:
        for member in self.enum:
            if member.value == value:
                return member
        raise ValueError(f"{value!r}, want one of {[e.value for e in self.enum]}")


class KeyRef(Codec):
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


class VKey(Codec):
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
class Maybe(Codec):
    inner: Codec

    def check(self, value: Any) -> None:
        if value is not None:
            self.inner.check(value)

    def encode(self, value: Any) -> JSONValue:
        return None if value is None else self.inner.encode(value)

    def decode(self, value: JSONValue) -> Any:
        return None if value is None else self.inner.decode(value)


@dataclass(frozen=True, slots=True)
class Nested(Codec):
    cls: type[Any]

    def check(self, value: Any) -> None:
        if not isinstance(value, self.cls):
            raise ValueError(f"got {value!r}, want a {self.cls.__name__}")

    def encode(self, value: Any) -> JSONValue:
        return encode_fields(value)

    def decode(self, value: JSONValue) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"got {value!r}, want an object")
        if all(isinstance(v, str) for v in value.values()):  # remembered: immutable
            return _decode_flat(self, tuple(sorted(cast("dict[str, str]", value).items())))
        return decode_fields(self.cls, value)


@functools.lru_cache(maxsize=1024)
def _decode_flat(codec: Nested, items: tuple[tuple[str, str], ...]) -> Any:
    """A nested object of string fields (a `Region`), decoded once per distinct value."""
    return decode_fields(codec.cls, dict(items))


class FieldError(ValueError):
    """A field failed its check: a ``ValueError`` that remembers which field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def field_codec(codec: Codec) -> dict[str, Codec]:
    """Field metadata naming the field's codec."""
    return {"codec": codec}


_CODECS: dict[type[Any], dict[str, Codec]] = {}


def codecs_of(cls: type[Any]) -> dict[str, Codec]:
    """The codec of each field of dataclass ``cls``, in field order (memoised)."""
    if cls not in _CODECS:
        _CODECS[cls] = {
            f.name: f.metadata["codec"] for f in dataclasses.fields(cls) if "codec" in f.metadata
        }
    return _CODECS[cls]


def check_fields(obj: Any) -> None:
    for name, codec in codecs_of(type(obj)).items():
        try:
            codec.check(getattr(obj, name))
        except ValueError as exc:
            raise FieldError(name, str(exc)) from exc


def encode_fields(obj: Any) -> dict[str, JSONValue]:
    return {name: codec.encode(getattr(obj, name)) for name, codec in codecs_of(type(obj)).items()}


def decode_fields(cls: type[Any], obj: Mapping[str, JSONValue]) -> Any:
    codecs = codecs_of(cls)
    if obj.keys() != codecs.keys():
        if unknown := sorted(obj.keys() - codecs.keys()):
            raise FieldError(unknown[0], "unknown field")
        raise FieldError(min(codecs.keys() - obj.keys()), "missing field")
    values = {}
    for name, codec in codecs.items():
        try:
            values[name] = codec.decode(obj[name])
        except FieldError as exc:
            raise FieldError(f"{name}.{exc.field}", exc.reason) from exc
        except ValueError as exc:
            raise FieldError(name, str(exc)) from exc
    return cls(**values)


def decode_object(cls: type[Any], value: JSONValue) -> Any:
    """``cls`` built from a JSON object, or `RecordFormatError` naming field and reason."""
    if not isinstance(value, dict):
        raise RecordFormatError(f"{cls.__name__} must be a JSON object")
    try:
        return decode_fields(cls, value)
    except FieldError as exc:
        raise RecordFormatError(exc.reason, field=exc.field) from exc


@functools.lru_cache(maxsize=1024)
def _parse_key_id(text: str) -> KeyId:
    return KeyId.parse(text)  # immutable: the same text gives an equal, shared KeyId
