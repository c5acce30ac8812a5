"""``hallmark enrol``: fingerprint an item, sign its record, register it on a ledger.

The capture must pass every quality check (a retake is refused, never enrolled); when
the item's GS1 code was decoded, its serial must be the one given. The record is signed
with the manufacturer's key, registered, then looked up again so the caller gets the
leaf and checkpoint the registry can prove, not merely the ones it claimed.

With a hologram tilt burst's template (`fingerprint.hologram`), the record also names
its SHA-256 (``hologram_sha256``) and the template is registered as a second blob; a
burst needing a retake, not live, or showing another code is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import fingerprint
from fingerprint import FingerprintError
from fingerprint.gs1 import Gs1Error, parse
from fingerprint.hologram import HologramTemplate, retake_reasons, template_liveness
from fingerprint.image import ImageInput
from fingerprint.quality import assess
from fingerprint.region import RegionSpec
from fingerprint.template import SCHEME, VERSION
from registry_client.errors import RegistryError
from registry_client.item import ItemId
from registry_client.ledger import NewEntry
from registry_client.records import ProductRecord, Region, SignedEnvelope, Signer
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A signed product record and the blob it commits to, ready to register."""

    envelope: SignedEnvelope
    blob: bytes
    item: ItemId
    hologram: bytes | None = None
    """The hologram template's bytes, when the record names one."""


def prepare_record(
    code_text: str,
    blob: bytes,
    *,
    scheme: str,
    scheme_version: int,
    signer: Signer,
    serial: str | None = None,
    gtin: str | None = None,
    region: RegionSpec = RegionSpec(),
    now: datetime | None = None,
    hologram: HologramTemplate | None = None,
) -> Prepared:
    """Check the decoded code against ``serial`` and ``gtin``, then build the record of
    ``blob`` (a template, or a commitment: its SHA-256 goes on the ledger) and of
    ``hologram`` when given, and sign it.

    Raises `EnrolRefused` for labels that disagree with the code, or that are missing
    without one, and for a hologram burst that cannot be enrolled (`check_hologram`).
    """
    gtin, serial = _check_code(code_text, serial=serial, gtin=gtin)
    if hologram is not None:
        check_hologram(hologram, code_text)
    record = ProductRecord(
        gtin=gtin,
        serial=serial,
        batch=parse(code_text).batch if code_text else None,
        sku=None,
        scheme=scheme,
        scheme_version=scheme_version,
        template_sha256=hashlib.sha256(blob).digest(),
        template_size=len(blob),
        region=Region(x=region.x, y=region.y, width=region.width, height=region.height),
        hologram_sha256=None if hologram is None else bytes.fromhex(hologram.digest()),
        manufacturer=signer.key_id,
        time=(now or datetime.now(UTC)).replace(microsecond=0),
    )
    return Prepared(
        envelope=signer.sign(record),
        blob=blob,
        item=record.item,
        hologram=None if hologram is None else hologram.to_bytes(),
    )


def check_hologram(hologram: HologramTemplate, code_text: str) -> None:
    """Raise `EnrolRefused` unless ``hologram`` is fit to enrol for the item whose code
    reads ``code_text``: a burst needing no retake, live, of the same code."""
    if retake := retake_reasons(hologram):
        raise EnrolRefused(f"hologram burst needs a retake: {', '.join(map(str, retake))}")
    if failed := template_liveness(hologram).reasons:
        raise EnrolRefused(f"hologram burst is not live: {', '.join(map(str, failed))}")
    if code_text and hologram.code_text and hologram.code_text != code_text:
        raise EnrolRefused(
            f"the hologram burst shows code {hologram.code_text!r}, the image {code_text!r}"
        )


def prepare(
    image: ImageInput,
    *,
    signer: Signer,
    serial: str | None = None,
    gtin: str | None = None,
    region: RegionSpec = RegionSpec(),
    now: datetime | None = None,
    hologram: HologramTemplate | None = None,
) -> Prepared:
    """Fingerprint ``image`` and sign its record (`prepare_record`), not yet registered.

    Raises `EnrolRefused` for a capture needing a retake or labels that disagree.
    """
    template = fingerprint.extract(image, region)
    if issues := assess(template.quality):
        reasons = ", ".join(
            f"{i.reason.value} ({i.value:.3g} vs {i.threshold:.3g})" for i in issues
        )
        raise EnrolRefused(f"capture needs a retake: {reasons}")
    return prepare_record(
        template.code_text,
        template.to_bytes(),
        scheme=SCHEME,
        scheme_version=VERSION,
        signer=signer,
        serial=serial,
        gtin=gtin,
        region=region,
        now=now,
        hologram=hologram,
    )


def enrol(
    image: ImageInput,
    *,
    serial: str | None = None,
    signer: Signer,
    registry: Registry,
    gtin: str | None = None,
    region: RegionSpec = RegionSpec(),
    now: datetime | None = None,
    hologram: HologramTemplate | None = None,
) -> Enrolment:
    """Fingerprint ``image`` and register it as item ``serial`` signed by ``signer``,
    with its ``hologram`` template when given.

    ``serial`` and ``gtin`` default to the decoded GS1 code's and must agree with it
    when given; without a code both are required.
    Raises `EnrolRefused` for a capture needing a retake or labels that disagree, and
    the registry's errors (`SignatureError` for an untrusted key, `DuplicateItemError`).
    """
    prepared = prepare(
        image,
        signer=signer,
        serial=serial,
        gtin=gtin,
        region=region,
        now=now,
        hologram=hologram,
    )
    return register(prepared, registry)


def register(prepared: Prepared, registry: Registry) -> Enrolment:
    """Register ``prepared`` and look it up again: the leaf and checkpoint as proven."""
    registry.register(prepared.envelope, prepared.blob, prepared.hologram)
    return Enrolment(proven=registry.lookup(prepared.item))


class BatchRegistry(Registry, Protocol):
    """A registry that admits several records and appends them as one batch
    (`registry_client.embedded.EmbeddedRegistry`)."""

    def admit_products(
        self, items: Sequence[tuple[SignedEnvelope, bytes]], pending: Collection[ItemId] = ()
    ) -> list[NewEntry | RegistryError | ValueError]: ...

    def append(self, entries: Sequence[NewEntry]) -> range: ...


def register_batch(
    prepared: Sequence[Prepared], registry: BatchRegistry
) -> list[int | RegistryError | ValueError]:
    """Register ``prepared`` in one ledger append: each item's leaf, or the error refusing
    it (a duplicate, an untrusted key), in order."""
    admitted = registry.admit_products([(p.envelope, p.blob) for p in prepared])
    entries = [a for a in admitted if isinstance(a, NewEntry)]
    leaves = iter(registry.append(entries) if entries else ())
    return [next(leaves) if isinstance(a, NewEntry) else a for a in admitted]


def enrol_batch(
    images: Sequence[ImageInput],
    *,
    signer: Signer,
    registry: BatchRegistry,
    region: RegionSpec = RegionSpec(),
    now: datetime | None = None,
) -> list[ItemId | Exception]:
    """Fingerprint and sign each of ``images`` (their codes give the items), then register
    those that pass in one ledger append: each image's item, or the error refusing it.

    The caller registers nothing else meanwhile: duplicates are checked at admission.
    """
    prepared: list[Prepared | Exception] = []
    for image in images:
        try:
            prepared.append(prepare(image, signer=signer, region=region, now=now))
        except (ValueError, FingerprintError) as exc:
            prepared.append(exc)
    registered = iter(register_batch([p for p in prepared if isinstance(p, Prepared)], registry))
    out: list[ItemId | Exception] = []
    for made in prepared:
        if isinstance(made, Prepared):
            leaf = next(registered)
            out.append(made.item if isinstance(leaf, int) else leaf)
        else:
            out.append(made)
    return out


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
