"""Scan history warnings: far apart in place (coordinates or text) and in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.flows.history import (
    Concern,
    HistoryRules,
    Scan,
    coordinates,
    distance_km,
    scans,
    warnings,
)
from registry_client.note import SignerKey
from registry_client.records import KeyId, Verdict, VerificationEvent

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
PARIS = "48.8566,2.3522"
LYON = "45.7640,4.8357"
TOKYO = "35.6762,139.6503"


def _scan(hours: float, place: str | None, *, current: bool = False) -> Scan:
    return Scan(
        time=T0 + timedelta(hours=hours),
        place=place,
        device="device",
        verdict="genuine",
        current=current,
    )


def test_paris_then_tokyo_two_hours_later_is_too_far_to_travel() -> None:
    (warning,) = warnings([_scan(0, PARIS), _scan(2, TOKYO)])
    assert warning.concern is Concern.FAR_APART_IN_PLACE
    assert "9,7" in warning.message and "too far to travel" in warning.message
    assert warning.earlier.place == PARIS and warning.later.place == TOKYO


def test_paris_then_lyon_by_train_is_fine_but_not_in_ten_minutes() -> None:
    assert warnings([_scan(0, PARIS), _scan(3, LYON)]) == ()
    (warning,) = warnings([_scan(0, PARIS), _scan(10 / 60, LYON)])
    assert "10 min apart" in warning.message


def test_the_same_coordinates_at_the_same_moment_are_fine() -> None:
    assert warnings([_scan(0, PARIS), _scan(0, "48.8567, 2.3521")]) == ()


def test_different_named_places_within_a_day_warn_and_case_or_spacing_does_not() -> None:
    (warning,) = warnings([_scan(0, "Shop 12, Lyon"), _scan(5, "Airport duty free")])
    assert warning.concern is Concern.FAR_APART_IN_PLACE
    assert "5 h apart" in warning.message
    assert warnings([_scan(0, "Shop 12, Lyon"), _scan(5, "shop  12, LYON")]) == ()
    assert warnings([_scan(0, "Shop 12, Lyon"), _scan(30, "Airport duty free")]) == ()


def test_unknown_places_never_warn_about_place() -> None:
    assert warnings([_scan(0, None), _scan(1, TOKYO), _scan(2, None)]) == ()


def test_a_scan_long_after_the_previous_one_warns_about_time() -> None:
    (warning,) = warnings([_scan(0, PARIS), _scan(400 * 24, PARIS)])
    assert warning.concern is Concern.FAR_APART_IN_TIME
    assert "400 days" in warning.message
    rules = HistoryRules(max_gap=timedelta(days=500))
    assert warnings([_scan(0, PARIS), _scan(400 * 24, PARIS)], rules) == ()


def test_only_consecutive_scans_are_compared_in_time_order() -> None:
    history = [_scan(2, TOKYO), _scan(0, PARIS), _scan(30, TOKYO)]
    (warning,) = warnings(history)
    assert (warning.earlier.place, warning.later.place) == (PARIS, TOKYO)


def test_scans_orders_logged_events_and_appends_the_current_scan() -> None:
    device = KeyId.of(SignerKey.generate("phone").verifier)
    events = [
        VerificationEvent(
            device=device,
            gtin="09506000134352",
            serial="SN1",
            place=place,
            time=T0 + timedelta(hours=hours),
            verdict=Verdict.GENUINE,
            score=5.0,
            scheme="hallmark-fp",
            scheme_version=1,
        )
        for hours, place in ((1.25, LYON), (1, PARIS))
    ]
    current = _scan(6, TOKYO, current=True)
    history = scans(events, current)
    assert [s.place for s in history] == [PARIS, LYON, TOKYO]
    assert history[0].device == device.format() and history[-1].current
    assert [w.later.place for w in warnings(history)] == [LYON, TOKYO]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48.8566,2.3522", (48.8566, 2.3522)),
        (" -33.9 , 151.2 ", (-33.9, 151.2)),
        ("91,0", None),
        ("0,181", None),
        ("Shop 12", None),
        ("1,2,3", None),
    ],
)
def test_coordinates_are_parsed_only_when_they_are_on_earth(
    text: str, expected: tuple[float, float] | None
) -> None:
    assert coordinates(text) == expected


def test_distance_matches_a_known_great_circle() -> None:
    assert distance_km((48.8566, 2.3522), (35.6762, 139.6503)) == pytest.approx(9712, abs=5)


_LAT = st.floats(-90, 90)
_LON = st.floats(-180, 180)


@given(_LAT, _LON, _LAT, _LON)
def test_distance_is_symmetric_and_bounded(a: float, b: float, c: float, d: float) -> None:
    there, back = distance_km((a, b), (c, d)), distance_km((c, d), (a, b))
    assert there == pytest.approx(back, abs=1e-6)
    assert 0 <= there <= 20_016
