"""An item's scan history, and the warnings it raises: seen far apart in place or time.

A genuine item is in one place at a time. Scans of the same GTIN and serial at two places
too far apart for the time between them (its label copied onto other items), or a scan
long after the last one (a label or package re-used) are worth a person's attention;
they are warnings, not verdicts. Places are the free text a scanning device signs
(``VerificationEvent.place``): two ``"lat,lon"`` places (decimal degrees) are compared by
great-circle distance and the speed it implies; other places differ when their
normalised text differs.
"""

from __future__ import annotations

import enum
import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from registry_client.records import VerificationEvent

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), for the haversine distance."""
_COORDINATES = re.compile(r"^\s*([+-]?\d{1,2}(?:\.\d+)?)\s*,\s*([+-]?\d{1,3}(?:\.\d+)?)\s*$")


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryRules:
    """When scans are too far apart.

    A trip faster than ``max_speed_kmh`` (an airliner's cruise, door to door) between
    two coordinate places is impossible; text places that differ are suspicious when
    scanned within ``same_place_within``. A gap over ``max_gap`` between consecutive
    scans is flagged.
    """

    max_speed_kmh: float = 900.0
    same_place_within: timedelta = timedelta(hours=24)
    max_gap: timedelta = timedelta(days=365)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scan:
    """One scan of the item: when, where, by which device, with what verdict."""

    time: datetime
    place: str | None
    device: str
    verdict: str
    current: bool = False
    """Whether this is the scan being shown now (not yet in the log)."""

    @classmethod
    def of(cls, event: VerificationEvent) -> Scan:
        """The scan a logged verification event records."""
        return cls(
            time=event.time,
            place=event.place,
            device=event.device.format(),
            verdict=event.verdict.value,
        )


class Concern(enum.StrEnum):
    """What a warning is about."""

    FAR_APART_IN_PLACE = "far apart in place"
    FAR_APART_IN_TIME = "far apart in time"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryWarning:
    """Two consecutive scans that should not both be of one genuine item."""

    concern: Concern
    earlier: Scan
    later: Scan
    message: str


def scans(events: Iterable[VerificationEvent], current: Scan | None = None) -> tuple[Scan, ...]:
    """The scans of ``events`` and ``current``, oldest first."""
    found = [Scan.of(event) for event in events]
    if current is not None:
        found.append(current)
    return tuple(sorted(found, key=lambda scan: scan.time))


RULES = HistoryRules()
"""The default rules."""


def warnings(history: Iterable[Scan], rules: HistoryRules = RULES) -> tuple[HistoryWarning, ...]:
    """The warnings each pair of consecutive scans in ``history`` raises, oldest first."""
    ordered = sorted(history, key=lambda scan: scan.time)
    found: list[HistoryWarning] = []
    for earlier, later in itertools.pairwise(ordered):
        gap = later.time - earlier.time
        if message := _place_conflict(earlier, later, gap, rules):
            found.append(
                HistoryWarning(
                    concern=Concern.FAR_APART_IN_PLACE,
                    earlier=earlier,
                    later=later,
                    message=message,
                )
            )
        if gap > rules.max_gap:
            found.append(
                HistoryWarning(
                    concern=Concern.FAR_APART_IN_TIME,
                    earlier=earlier,
                    later=later,
                    message=f"seen again {gap.days} days after the previous scan: "
                    "a re-used label or package?",
                )
            )
    return tuple(found)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points in degrees (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def coordinates(place: str) -> tuple[float, float] | None:
    """``(lat, lon)`` if ``place`` is ``"lat,lon"`` in decimal degrees on Earth, else ``None``."""
    found = _COORDINATES.match(place)
    if found is None:
        return None
    lat, lon = float(found[1]), float(found[2])
    return (lat, lon) if abs(lat) <= 90 and abs(lon) <= 180 else None


def _place_conflict(earlier: Scan, later: Scan, gap: timedelta, rules: HistoryRules) -> str | None:
    if not earlier.place or not later.place:
        return None
    where = f"seen at {earlier.place!r} and at {later.place!r} {_span(gap)} apart"
    a, b = coordinates(earlier.place), coordinates(later.place)
    if a is not None and b is not None:
        km = distance_km(a, b)
        hours = gap.total_seconds() / 3600
        if km > 1.0 and (hours == 0 or km / hours > rules.max_speed_kmh):
            return f"{where} ({km:,.0f} km): too far to travel; its label may be copied"
        return None
    if _normalised(earlier.place) != _normalised(later.place) and gap <= rules.same_place_within:
        return f"{where}: one of them may carry a copied label"
    return None


def _normalised(place: str) -> str:
    return " ".join(place.casefold().split())


def _span(gap: timedelta) -> str:
    minutes = gap.total_seconds() / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.0f} h"
    return f"{gap.days} days"
