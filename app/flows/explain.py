"""Verify a capture and gather what a person needs to trust the verdict.

`verify_and_explain` runs `app.flows.verify.verify`, then adds the evidence picture
(`app.flows.evidence`) and the item's scan history with its warnings
(`app.flows.history`), this scan included when it was logged or queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.flows.evidence import EvidencePicture, picture
from app.flows.history import RULES, HistoryRules, HistoryWarning, Scan, scans, warnings
from app.flows.verify import Verification, verify
from fingerprint import Template
from fingerprint.image import ImageInput
from fingerprint.params import MatchParams
from registry_client.records import Signer
from registry_client.registry import Registry


@dataclass(frozen=True, slots=True, kw_only=True)
class Explained:
    """A verification with its evidence picture and the item's scan history."""

    verification: Verification
    picture: EvidencePicture | None
    history: tuple[Scan, ...]
    """Scans of the item, oldest first; the one just made is marked ``current``."""
    warnings: tuple[HistoryWarning, ...]


def verify_and_explain(
    image: ImageInput,
    *,
    registry: Registry,
    serial: str | None = None,
    gtin: str | None = None,
    device: Signer | None = None,
    place: str | None = None,
    params: MatchParams = MatchParams(),
    rules: HistoryRules = RULES,
    now: datetime | None = None,
) -> Explained:
    """`verify` ``image`` with ``params``' thresholds, logging a scan signed by ``device``
    at ``place`` if given."""
    verification = verify(
        image,
        registry=registry,
        serial=serial,
        gtin=gtin,
        device=device,
        place=place,
        params=params,
    )
    proven, result, probe = verification.proven, verification.match, verification.probe
    if proven is None:
        return Explained(verification=verification, picture=None, history=(), warnings=())
    logged = verification.event_leaf is not None or verification.event_queued
    current = (
        Scan(
            time=(now or datetime.now(UTC)).replace(microsecond=0),
            place=place,
            device=device.key_id.format(),
            verdict=verification.outcome.value,
            current=True,
        )
        if device is not None and logged
        else None
    )
    history = scans(proven.events, current)
    return Explained(
        verification=verification,
        picture=(
            None
            if result is None or probe is None  # a commitment: no template to show
            else picture(Template.from_bytes(proven.template), probe, result.evidence)
        ),
        history=history,
        warnings=warnings(history, rules),
    )
