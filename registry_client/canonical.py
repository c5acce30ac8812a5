"""Canonical JSON in the style of RFC 8785, for the subset Hallmark's records use.

Object keys sorted by UTF-16 code units, no insignificant whitespace, UTF-8, strings
escaped as ECMAScript ``JSON.stringify`` does, and numbers restricted to integers of at
most 53 bits (fractions travel as decimal strings). `canonical_json` writes it;
`load_canonical_json` accepts only it, so a value has exactly one encoding.

References
----------
RFC 8785, JSON Canonicalization Scheme (2020); RFC 7493 (I-JSON) §2.2.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import TypeAlias

from registry_client.errors import RecordFormatError

JSONValue: TypeAlias = "bool | int | str | list[JSONValue] | dict[str, JSONValue] | None"

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest magnitude of a JSON integer (RFC 8785 §3.2.2.3, I-JSON)."""

# json.dumps's output for this subset once floats and big integers are refused: keys
# sorted by code point, which for ASCII keys is RFC 8785's UTF-16 order.
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
)


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
