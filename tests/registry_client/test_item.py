"""Item identity: GTIN + serial, its element-string text form, and its checks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_client.item import ItemId, gtin_check_digit

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
GTIN = "09506000134352"
serials = st.text(alphabet=CSET82, min_size=1, max_size=20)
gtins = st.text(alphabet="0123456789", min_size=13, max_size=13).map(
    lambda body: body + gtin_check_digit(body)
)


def test_gtin_check_digits() -> None:
    assert gtin_check_digit("0400638133393") == "1"
    assert gtin_check_digit("0003600029145") == "2"  # UPC-A 036000291452
    assert gtin_check_digit("629104150021") == "3"  # GS1's GTIN-13 example


def test_element_string() -> None:
    item = ItemId(gtin=GTIN, serial="SN0001")
    assert item.format() == str(item) == "(01)09506000134352(21)SN0001"
    assert ItemId.parse("(01)09506000134352(21)SN0001") == item


def test_serial_with_parentheses_and_ai_text_parses_back() -> None:
    text = "(01)09506000134352(21)(21)A(01)"
    assert ItemId.parse(text) == ItemId(gtin=GTIN, serial="(21)A(01)")


def test_same_serial_under_two_gtins_is_two_items() -> None:
    a = ItemId(gtin=GTIN, serial="0001")
    b = ItemId(gtin="04006381333931", serial="0001")
    assert a != b and a.format() != b.format() and len({a, b}) == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("SN0001", "want \\(01\\)"),
        ("(01)0950600013435(21)X", "want \\(01\\)"),  # 13 digits
        ("(01)09506000134353(21)X", "check digit 3, want 2"),
        ("(01)0950600013435a(21)X", "14 digits"),
        ("(01)09506000134352(21)", "0 characters"),
        ("(01)09506000134352(21)" + "X" * 21, "21 characters"),
        ("(01)09506000134352(21)SN 1", "outside GS1 CSET 82"),
        ("(01)09506000134352(21)SN\n1", "outside GS1 CSET 82"),
        ("(01)09506000134352(10)X", "want \\(01\\)"),
        ("(01)09506000134352(21)Ü", "outside GS1 CSET 82"),
    ],
)
def test_bad_items_are_refused(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        ItemId.parse(text)


@settings(max_examples=300, deadline=None)
@given(gtin=gtins, serial=serials)
def test_format_parse_round_trip(gtin: str, serial: str) -> None:
    item = ItemId(gtin=gtin, serial=serial)
    assert ItemId.parse(item.format()) == item


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=50))
def test_parse_returns_a_valid_item_or_raises_value_error(text: str) -> None:
    try:
        item = ItemId.parse(text)
    except ValueError:
        return
    assert item.format() == text
