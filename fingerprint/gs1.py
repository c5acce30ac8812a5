"""GS1 element strings: parse the application identifiers Hallmark uses.

Follows the GS1 General Specifications (release 24), §3 (application identifiers) and
§7.9 (check digit). Both the human-readable form ``(01)09506000134352(21)SN0001`` and the
raw form with FNC1 shown as GS (0x1D) separators are accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

GS = "\x1d"

_FIXED = {"00": 18, "01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6}
_VARIABLE = {"10": 20, "21": 20, "22": 20, "240": 30, "241": 30, "250": 30, "400": 30}
_HRI = re.compile(r"\((\d{2,4})\)([^()]*)")
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*")


class Gs1Error(ValueError):
    """A GS1 element string that does not follow the specification."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Gs1:
    """The parts of a GS1 element string Hallmark reads."""

    gtin: str
    serial: str
    batch: str | None = None
    expiry: dt.date | None = None


def check_digit(digits: str) -> int:
    """GS1 mod-10 check digit of ``digits`` (the number without its check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def parse(text: str) -> Gs1:
    """Parse an element string; it must carry a GTIN (01) and a serial (21).

    Raises
    ------
    Gs1Error
        Unknown AI, bad length or characters, wrong check digit, impossible date, or a
        missing GTIN or serial.
    """
    fields = _split_hri(text) if text.startswith("(") else _split_raw(text)
    for ai, value in fields.items():
        _check_value(ai, value)
    if "01" not in fields or "21" not in fields:
        raise Gs1Error(f"GS1 string needs a GTIN (01) and a serial (21), got AIs {sorted(fields)}")
    gtin = fields["01"]
    if int(gtin[-1]) != check_digit(gtin[:-1]):
        raise Gs1Error(f"GTIN {gtin} has check digit {gtin[-1]}, want {check_digit(gtin[:-1])}")
    expiry = _date(fields["17"]) if "17" in fields else None
    return Gs1(gtin=gtin, serial=fields["21"], batch=fields.get("10"), expiry=expiry)


def _split_hri(text: str) -> dict[str, str]:
    pairs = _HRI.findall(text)
    if "".join(f"({ai}){value}" for ai, value in pairs) != text:
        raise Gs1Error(f"not a GS1 element string in (AI)value form: {text!r}")
    return _unique(pairs, text)


def _split_raw(text: str) -> dict[str, str]:
    pairs: list[tuple[str, str]] = []
    rest = text.removeprefix(GS)
    while rest:
        ai = next((a for a in (rest[:2], rest[:3]) if a in _FIXED or a in _VARIABLE), None)
        if ai is None:
            raise Gs1Error(f"unknown GS1 application identifier at {rest[:4]!r} in {text!r}")
        rest = rest[len(ai) :]
        if ai in _FIXED:
            value, rest = rest[: _FIXED[ai]], rest[_FIXED[ai] :].removeprefix(GS)
        else:
            value, _, rest = rest.partition(GS)
        pairs.append((ai, value))
    return _unique(pairs, text)


def _unique(pairs: list[tuple[str, str]], text: str) -> dict[str, str]:
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise Gs1Error(f"repeated application identifier in {text!r}")
    return fields


def _check_value(ai: str, value: str) -> None:
    if ai in _FIXED:
        if len(value) != _FIXED[ai] or not value.isdigit():
            raise Gs1Error(f"AI ({ai}) takes {_FIXED[ai]} digits, got {value!r}")
    elif ai in _VARIABLE:
        if not 1 <= len(value) <= _VARIABLE[ai] or not _CSET82.fullmatch(value):
            raise Gs1Error(f"AI ({ai}) takes 1 to {_VARIABLE[ai]} GS1 characters, got {value!r}")
    else:
        raise Gs1Error(f"unsupported GS1 application identifier ({ai})")


def _date(yymmdd: str) -> dt.date:
    """A GS1 date; day 00 means the month's last day (§7.12), years within ±50 of now."""
    year, month, day = 2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    if year - dt.date.today().year > 50:
        year -= 100
    if not 1 <= month <= 12:
        raise Gs1Error(f"impossible GS1 date {yymmdd}: month {month}")
    try:
        if day == 0:
            next_month = dt.date(year + month // 12, month % 12 + 1, 1)
            return next_month - dt.timedelta(days=1)
        return dt.date(year, month, day)
    except ValueError as exc:
        raise Gs1Error(f"impossible GS1 date {yymmdd}") from exc
