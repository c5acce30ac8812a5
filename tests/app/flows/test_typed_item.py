"""The item a person types when its code cannot be read: serial, GTIN, element string."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.flows.verify import TypedItemError, typed_item
from registry_client.item import CSET82, ItemId, gtin_check_digit

GTIN = "09506000134352"


def _gtins(length: int) -> st.SearchStrategy[str]:
    body = st.text("0123456789", min_size=length - 1, max_size=length - 1)
    return body.map(lambda b: b + gtin_check_digit(b))


serials = st.from_regex(CSET82, fullmatch=True).filter(lambda s: len(s) <= 20 and s[:4] != "(01)")


@given(gtin=st.one_of(*(_gtins(n) for n in (8, 12, 13, 14))), serial=serials)
def test_a_valid_gtin_is_padded_to_14_digits(gtin: str, serial: str) -> None:
    assert typed_item(f" {serial} ", gtin) == (gtin.zfill(14), serial)


@given(gtin=_gtins(14), serial=serials)
def test_an_element_string_round_trips(gtin: str, serial: str) -> None:
    text = ItemId(gtin=gtin, serial=serial).format()
    assert typed_item(text) == (gtin, serial)
    assert typed_item(text, gtin) == (gtin, serial)


@given(gtin=_gtins(14), wrong=st.integers(1, 9))
def test_any_wrong_check_digit_is_refused_with_the_right_one(gtin: str, wrong: int) -> None:
    bad = gtin[:-1] + str((int(gtin[-1]) + wrong) % 10)
    with pytest.raises(TypedItemError, match=f"check digit {bad[-1]} is wrong, want {gtin[-1]}"):
        typed_item("0001", bad)


def test_blank_fields_leave_the_code_to_decide() -> None:
    assert typed_item("", "") == (None, None)
    assert typed_item("0001") == (None, "0001")
    assert typed_item("", f"  {GTIN[:7]} {GTIN[7:]}") == (GTIN, None)


@pytest.mark.parametrize(
    ("serial", "gtin", "fault"),
    [
        ("0001", "95060001343", "want 8, 12, 13 or 14 digits"),
        ("0001", "9506000134352x", "want 8, 12, 13 or 14 digits"),
        (f"(01){GTIN[:-1]}(21)0001", "", "element string"),
        ("(01)0001", "", "element string"),
        (f"(01){GTIN}(21)", "", "element string"),
        (f"(01){GTIN}(21)0001", "00000000000000"[:-1] + "0", "GTIN field"),
    ],
)
def test_bad_typing_names_the_fault(serial: str, gtin: str, fault: str) -> None:
    with pytest.raises(TypedItemError, match=fault):
        typed_item(serial, gtin)
