"""``hallmark enrol``: fingerprint an item, sign its record, register it on a ledger.

The capture must pass every quality check (a retake is refused, never enrolled); when
the item's GS1 code was decoded, its serial must be the one given. The record is signed
with the manufacturer's key, registered, then looked up again so the caller gets the
leaf and checkpoint the registry can prove, not merely the ones it claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import fingerprint
from fingerprint.gs1 import Gs1Error, parse
from fingerprint.image import ImageInput
from fingerprint.quality import assess
from fingerprint.region import RegionSpec
from fingerprint.template import SCHEME, VERSION
from registry_client.item import ItemId
from registry_client.records import ProductRecord, Region, Signer
from registry_client.registry import Registry, VerifiedRecord


class EnrolRefused(ValueError):
    """The capture or its labels cannot be enrolled; the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Enrolment:
    """A registered item: its record as the registry proves it."""

    proven: VerifiedRecord

    @property
    def template_sha256(self) -> bytes:
        """The fingerprint hash on the ledger."""
        return self.proven.record.template_sha256


def enrol(
    image: ImageInput,
    *,
    serial: str | None = None,
    signer: Signer,
    registry: Registry,
    gtin: str | None = None,
    region: RegionSpec = RegionSpec(),
    now: datetime | None = None,
) -> Enrolment:
    """Fingerprint ``image`` and register it as item ``serial`` signed by ``signer``.

    ``serial`` and ``gtin`` default to the decoded GS1 code's and must agree with it
    when given; without a code both are required.
    Raises `EnrolRefused` for a capture needing a retake or labels that disagree, and
    the registry's errors (`SignatureError` for an untrusted key, `DuplicateItemError`).
    """
    template = fingerprint.extract(image, region)
    if issues := assess(template.quality):
        reasons = ", ".join(
            f"{i.reason.value} ({i.value:.3g} vs {i.threshold:.3g})" for i in issues
        )
        raise EnrolRefused(f"capture needs a retake: {reasons}")
    gtin, serial = _check_code(template.code_text, serial=serial, gtin=gtin)
    data = template.to_bytes()
    record = ProductRecord(
        gtin=gtin,
        serial=serial,
        batch=parse(template.code_text).batch if template.code_text else None,
        sku=None,
        scheme=SCHEME,
        scheme_version=VERSION,
        template_sha256=bytes.fromhex(template.digest()),
        template_size=len(data),
        region=Region(x=region.x, y=region.y, width=region.width, height=region.height),
        hologram_sha256=None,
        manufacturer=signer.key_id,
        time=(now or datetime.now(UTC)).replace(microsecond=0),
    )
    registry.register(signer.sign(record), data)
    return Enrolment(proven=registry.lookup(ItemId(gtin=gtin, serial=serial)))


def _check_code(code_text: str, *, serial: str | None, gtin: str | None) -> tuple[str, str]:
    """GTIN and serial to register, after cross-checking the decoded code with the arguments."""
    if not code_text:
        if gtin is None or serial is None:
            raise EnrolRefused("no GS1 code was decoded; pass --gtin and --serial")
        return gtin, serial
    try:
        code = parse(code_text)
    except Gs1Error as exc:
        raise EnrolRefused(f"the decoded code {code_text!r} is not GS1: {exc}") from exc
    if serial is not None and code.serial != serial:
        raise EnrolRefused(f"the code says serial {code.serial!r}, --serial says {serial!r}")
    if gtin is not None and gtin != code.gtin:
        raise EnrolRefused(f"the code says GTIN {code.gtin}, --gtin says {gtin}")
    return code.gtin, code.serial
