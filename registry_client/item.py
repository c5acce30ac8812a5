"""Which item a record is about: a GTIN and a serial (a GS1 SGTIN), and its text form.

GS1 serials (AI 21) are unique only within one GTIN (AI 01): two products may both
carry serial ``0001``. The ledger's index, lookups, bundles and duplicate checks all
key an item by the pair, `ItemId`. Its one text form is the GS1 element string in
human-readable form, ``(01)<GTIN-14>(21)<serial>``; the GTIN has exactly 14 digits, so
a serial that itself contains parentheses still parses unambiguously.

References
----------
GS1 General Specifications §3.2 (AI 01, AI 21), §7.9.1 (check digit), §7.11 (CSET 82).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GTIN_LENGTH = 14
"""Digits of a GTIN-14 (AI 01); shorter GTINs are left-padded with zeros."""
MAX_SERIAL_LENGTH = 20
"""Longest serial (AI 21)."""
CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+")
"""GS1 AI encodable character set 82 (GS1 General Specifications §7.11, Figure 7.11-1)."""

_GTINS_REMEMBERED = 65_536
_VALID_GTINS: set[str] = set()
"""GTINs already checked (a registry sees few distinct ones, each many times)."""
_GTIN_AI = "(01)"
_SERIAL_AI = "(21)"
_SERIAL_AT = len(_GTIN_AI) + GTIN_LENGTH


def gtin_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit for the digits before it (GS1 GenSpecs §7.9.1)."""
    if not body.isascii() or not body.isdigit():
        raise ValueError(f"GTIN body {body!r} must be ASCII digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str(-total % 10)


def check_gtin(value: object) -> None:
    """Raise ``ValueError`` with the reason unless ``value`` is a valid GTIN-14."""
    if isinstance(value, str) and value in _VALID_GTINS:
        return
    if not (
        isinstance(value, str) and len(value) == GTIN_LENGTH and value.isascii() and value.isdigit()
    ):
        raise ValueError(f"{value!r}, want a GTIN-14 of {GTIN_LENGTH} digits")
    if (want := gtin_check_digit(value[:-1])) != value[-1]:
        raise ValueError(f"GTIN {value} has check digit {value[-1]}, want {want}")
    if len(_VALID_GTINS) < _GTINS_REMEMBERED:
        _VALID_GTINS.add(value)


def check_serial(value: object) -> None:
    """Raise ``ValueError`` with the reason unless ``value`` is a valid GS1 serial."""
    if not isinstance(value, str):
        raise ValueError(f"got {type(value).__name__}, want a string")
    if not 1 <= len(value) <= MAX_SERIAL_LENGTH:
        raise ValueError(f"{len(value)} characters, want 1 to {MAX_SERIAL_LENGTH}")
    if not CSET82.fullmatch(value):
        raise ValueError(f"{value!r} has characters outside GS1 CSET 82")


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class ItemId:
    """One item: its ``gtin`` (GTIN-14, AI 01) and ``serial`` (AI 21), both checked."""

    gtin: str
    serial: str

    def __post_init__(self) -> None:
        check_gtin(self.gtin)
        check_serial(self.serial)

    @classmethod
    def parse(cls, text: str) -> ItemId:
        """Parse ``(01)<GTIN-14>(21)<serial>``; raises ``ValueError`` naming the fault."""
        if not (text.startswith(_GTIN_AI) and text[_SERIAL_AT:].startswith(_SERIAL_AI)):
            raise ValueError(f"item {text!r:.60}, want (01)<14-digit GTIN>(21)<serial>")
        return cls(
            gtin=text[len(_GTIN_AI) : _SERIAL_AT], serial=text[_SERIAL_AT + len(_SERIAL_AI) :]
        )

    def format(self) -> str:
        """``(01)<GTIN-14>(21)<serial>``, the GS1 element string."""
        return f"{_GTIN_AI}{self.gtin}{_SERIAL_AI}{self.serial}"

    def __str__(self) -> str:
        return self.format()
