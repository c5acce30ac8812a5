import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fingerprint import gs1


def test_parses_the_human_readable_form() -> None:
    code = gs1.parse("(01)09506000134352(17)261231(10)ABC123(21)SN0001")
    assert code == gs1.Gs1(
        gtin="09506000134352", serial="SN0001", batch="ABC123", expiry=dt.date(2026, 12, 31)
    )


def test_parses_the_raw_form_with_group_separators() -> None:
    raw = "01095060001343521726123110ABC123\x1d21SN0001"
    assert gs1.parse(raw) == gs1.parse("(01)09506000134352(17)261231(10)ABC123(21)SN0001")


def test_day_zero_is_the_last_day_of_the_month() -> None:
    assert gs1.parse("(01)09506000134352(17)260200(21)X").expiry == dt.date(2026, 2, 28)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("(01)09506000134353(21)SN1", "check digit"),
        ("(01)0950600013435(21)SN1", "14 digits"),
        ("(01)09506000134352", "needs a GTIN"),
        ("(01)09506000134352(17)261331(21)SN1", "month 13"),
        ("(01)09506000134352(17)260230(21)SN1", "impossible"),
        ("(01)09506000134352(99)X(21)SN1", "unsupported"),
        ("(01)09506000134352(21)SN 1", "GS1 characters"),
        ("(01)09506000134352(21)A(21)B", "repeated"),
        ("(01)09506000134352junk(21)A", "14 digits"),
        ("(01)09506000134352(21)A)", "not a GS1"),
        ("9909506000134352", "unknown GS1 application identifier"),
    ],
)
def test_rejects_malformed_strings_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(gs1.Gs1Error, match=reason):
        gs1.parse(text)


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_gs1_error(text: str) -> None:
    with contextlib.suppress(gs1.Gs1Error):
        gs1.parse(text)


@given(
    st.from_regex(r"[0-9]{13}", fullmatch=True), st.from_regex(r"[A-Z0-9]{1,20}", fullmatch=True)
)
def test_round_trip_of_valid_codes(body: str, serial: str) -> None:
    gtin = body + str(gs1.check_digit(body))
    assert gs1.parse(f"(01){gtin}(21){serial}") == gs1.Gs1(gtin=gtin, serial=serial)
