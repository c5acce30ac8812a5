"""``hallmark verify``: is this the item its GTIN and serial were registered as?

GTIN and serial (together the item, `ItemId`) come from the decoded GS1 code unless
given; without a code both must be given. The registry's record is
verified end to end (`registry_client.registry.verify_lookup`), its template decoded,
and the live capture matched against it; for a record of the ``commitment`` scheme the
capture is judged against the fuzzy commitment instead (`app.flows.commitment`).
With a hologram tilt burst's template, the item's enrolled hologram template (checked
against the record's ``hologram_sha256`` by the lookup) is matched too, and the outcome
combines both (`combine`). Outcomes are values (`Outcome`); only bad input and failed
security checks raise.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import UTC, datetime

import fingerprint
from app.flows.commitment import SCHEME as COMMITMENT_SCHEME
from app.flows.commitment import Judgement, judge
from fingerprint import Match, Template
from fingerprint.gs1 import Gs1Error, parse
from fingerprint.hologram import HologramTemplate, HologramVerdict, match_hologram
from fingerprint.image import ImageInput
from fingerprint.params import MatchParams
from registry_client.item import GTIN_LENGTH, ItemId, gtin_check_digit
from registry_client.records import SignedEnvelope, Signer, Verdict, VerificationEvent
from registry_client.registry import NotRegisteredError, Registry, VerifiedRecord

_MAX_SCORE = 1_000_000.0
_GTIN_LENGTHS = (8, 12, 13, GTIN_LENGTH)
"""GTIN-8, -12, -13 and -14 (GS1 GenSpecs §3.3.2): shorter ones are padded with zeros."""


class TypedItemError(ValueError):
    """What a person typed for the item is not a GTIN and serial; the message says why."""


class NoHologramError(ValueError):
    """A hologram burst was given for an item enrolled without a hologram."""


class Outcome(enum.StrEnum):
    """What verification concluded; `exit_code` is the CLI's status for it."""

    GENUINE = "genuine"
    COUNTERFEIT = "counterfeit"
    RETAKE = "retake"
    NOT_REGISTERED = "not registered"

    @property
    def exit_code(self) -> int:
        """0 genuine, 3 counterfeit, 4 retake, 5 not registered."""
        return {"genuine": 0, "counterfeit": 3, "retake": 4, "not registered": 5}[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    """The outcome, the match behind it, the proven record, and any logged event."""

    serial: str
    outcome: Outcome
    match: Match | None = None
    judgement: Judgement | None = None
    """For an item registered by commitment, instead of ``match``."""
    proven: VerifiedRecord | None = None
    reason: str | None = None
    """Why the outcome overrides the match (withdrawn item, GTIN mismatch), if it does."""
    event: SignedEnvelope | None = None
    """The device-signed `VerificationEvent` logged (or queued) for this check, if any."""
    event_leaf: int | None = None
    event_queued: bool = False
    probe: Template | None = None
    """The capture's fingerprint, once one was extracted."""
    params: MatchParams = MatchParams()
    """The thresholds (and fusion) the verdict was decided with."""
    hologram: HologramVerdict | None = None
    """The live hologram burst against the enrolled one, when a burst was given."""


def verify(
    image: ImageInput,
    *,
    registry: Registry,
    serial: str | None = None,
    device: Signer | None = None,
    place: str | None = None,
    gtin: str | None = None,
    params: MatchParams = MatchParams(),
    hologram: HologramTemplate | None = None,
) -> Verification:
    """Verify ``image`` against the registry; log a signed event if ``device`` is given.

    With ``hologram`` (a live tilt burst's template) the item's enrolled hologram is
    matched too and the outcome is `combine`'s; `NoHologramError` if it has none.

    ``serial`` and ``gtin`` replace the decoded code's; without a code both are needed
    (``ValueError`` otherwise). ``params`` holds the verdict thresholds (the fitted ones
    by default).
    """
    probe = fingerprint.extract(image)
    code = _parse_code(probe.code_text)
    serial = serial or (code.serial if code is not None else None)
    gtin = gtin or (code.gtin if code is not None else None)
    if serial is None or gtin is None:
        raise ValueError(
            "no GS1 code was decoded from the image; give its GTIN and serial "
            "(--gtin and --serial, or type them)"
        )
    item = ItemId(gtin=gtin, serial=serial)
    try:
        proven = registry.lookup(item)
    except NotRegisteredError as exc:
        return Verification(
            serial=serial,
            outcome=Outcome.NOT_REGISTERED,
            reason=str(exc),
            probe=probe,
            params=params,
        )
    result, judgement = None, None
    if proven.record.scheme == COMMITMENT_SCHEME:
        judgement = judge(proven.template, probe, image)
        decision = judgement.decision
    else:
        result = fingerprint.match(Template.from_bytes(proven.template), probe, params)
        decision = result.decision
    outcome, reason = Outcome(decision.value), None
    holo = None
    if hologram is not None:
        holo = match_hologram(enrolled_hologram(proven), hologram)
        outcome = combine(outcome, Outcome(holo.decision.value))
    if proven.withdrawn:
        outcome, reason = Outcome.COUNTERFEIT, "the manufacturer has withdrawn this item"
    elif code is not None and code.gtin != proven.record.gtin:
        outcome = Outcome.COUNTERFEIT
        reason = f"the code says GTIN {code.gtin}, the record {proven.record.gtin}"
    verification = Verification(
        serial=serial,
        outcome=outcome,
        match=result,
        judgement=judgement,
        proven=proven,
        reason=reason,
        probe=probe,
        params=params,
        hologram=holo,
    )
    if device is None:
        return verification
    envelope = sign_event(verification, device, place)
    leaf = registry.append_event(envelope)
    return dataclasses.replace(
        verification, event=envelope, event_leaf=leaf, event_queued=leaf is None
    )


def enrolled_hologram(proven: VerifiedRecord) -> HologramTemplate:
    """The hologram template enrolled with ``proven`` (its hash checked by the lookup);
    `NoHologramError` if the item was enrolled without one."""
    if proven.hologram is None:
        raise NoHologramError(
            f"item {proven.record.item} was enrolled without a hologram; "
            "verify it without the burst"
        )
    return HologramTemplate.from_bytes(proven.hologram)


def combine(surface: Outcome, hologram: Outcome) -> Outcome:
    """Genuine only if both are; counterfeit if either is; otherwise a retake."""
    if Outcome.COUNTERFEIT in (surface, hologram):
        return Outcome.COUNTERFEIT
    if surface is hologram is Outcome.GENUINE:
        return Outcome.GENUINE
    return Outcome.RETAKE


def typed_item(serial_text: str, gtin_text: str = "") -> tuple[str | None, str | None]:
    """The GTIN and serial a person typed: ``(gtin, serial)``, ``None`` where left blank.

    ``serial_text`` is a serial or the whole element string ``(01)GTIN(21)serial``;
    ``gtin_text`` a GTIN-8, -12, -13 or -14 (padded to 14 digits), its check digit
    verified. Raises `TypedItemError` naming the fault.
    """
    serial_text, gtin_text = serial_text.strip(), "".join(gtin_text.split())
    gtin = _typed_gtin(gtin_text) if gtin_text else None
    if not serial_text.startswith("(01)"):
        return gtin, serial_text or None
    try:
        item = ItemId.parse(serial_text)
    except ValueError as exc:
        raise TypedItemError(f"element string: {exc}") from exc
    if gtin is not None and gtin != item.gtin:
        raise TypedItemError(f"the element string says GTIN {item.gtin}, the GTIN field {gtin}")
    return item.gtin, item.serial


def _typed_gtin(text: str) -> str:
    if not (text.isascii() and text.isdigit() and len(text) in _GTIN_LENGTHS):
        raise TypedItemError(f"GTIN {text!r:.30}: want 8, 12, 13 or 14 digits")
    if (want := gtin_check_digit(text[:-1])) != text[-1]:
        raise TypedItemError(f"GTIN {text}: check digit {text[-1]} is wrong, want {want}")
    return text.zfill(GTIN_LENGTH)


def _parse_code(code_text: str) -> fingerprint.gs1.Gs1 | None:
    if not code_text:
        return None
    try:
        return parse(code_text)
    except Gs1Error as exc:
        raise ValueError(f"the decoded code {code_text!r} is not GS1: {exc}") from exc


def sign_event(
    verification: Verification, device: Signer, place: str | None, now: datetime | None = None
) -> SignedEnvelope:
    """The `VerificationEvent` for a check of a proven record, signed by ``device``."""
    assert verification.proven is not None
    verdict = {
        Outcome.GENUINE: Verdict.GENUINE,
        Outcome.RETAKE: Verdict.RETAKE,
    }.get(verification.outcome, Verdict.COUNTERFEIT)
    if verification.match is not None:
        score = round(max(-_MAX_SCORE, min(_MAX_SCORE, verification.match.score)), 4)
    else:  # a commitment opens or not: +1, -1, 0 for a retake
        score = {Outcome.GENUINE: 1.0, Outcome.RETAKE: 0.0}.get(verification.outcome, -1.0)
    event = VerificationEvent(
        device=device.key_id,
        gtin=verification.proven.record.gtin,
        serial=verification.serial,
        place=place,
        time=(now or datetime.now(UTC)).replace(microsecond=0),
        verdict=verdict,
        score=score,
        scheme=verification.proven.record.scheme,
        scheme_version=verification.proven.record.scheme_version,
    )
    return device.sign(event)
