"""Items registered by fuzzy commitment: enrol from several captures, judge one capture.

For a product line whose manufacturer will not publish templates, the ledger's
`ProductRecord` has ``scheme = "commitment"`` and its template blob is a
`fingerprint.commitment.Commitment` (so ``template_sha256`` is the commitment's
SHA-256): salted hash, helper data, reliability mask, parameters; no surface. The
record format, signatures, proofs and lookups are those of any item, so one ledger
holds both kinds; `app.flows.verify` dispatches on the record's scheme to `judge`.

Enrolment needs every capture to pass the quality checks and to show the same code
(the window must be located by it: the code's corners are the only alignment a
commitment gets). Verification: a capture that fails a check, or whose code was not
found, is a *retake*; otherwise *genuine* if it opens the commitment, else *counterfeit*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import fingerprint
from app.flows.enrol import Enrolment, EnrolRefused, prepare_record, register
from fingerprint import Decision, QualityIssue, RetakeReason, Template
from fingerprint.commitment import SCHEME, VERSION, Commitment, CommitmentParams, Opening, commit_to
from fingerprint.commitment.scheme import open_with
from fingerprint.image import ImageInput
from fingerprint.quality import assess
from fingerprint.region import RegionSpec
from registry_client.records import Signer
from registry_client.registry import Registry

__all__ = ["SCHEME", "Judgement", "enrol_commitment", "judge"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    """A capture judged against a commitment: the decision, and the opening if tried."""

    decision: Decision
    opening: Opening | None
    issues: tuple[QualityIssue, ...] = ()


def enrol_commitment(
    images: Sequence[ImageInput],
    *,
    signer: Signer,
    registry: Registry,
    serial: str | None = None,
    gtin: str | None = None,
    region: RegionSpec = RegionSpec(),
    params: CommitmentParams = CommitmentParams(),
    now: datetime | None = None,
) -> Enrolment:
    """Commit to the item in ``images`` (one or more captures) and register the commitment.

    ``serial`` and ``gtin`` must agree with the decoded code when given. Raises
    `EnrolRefused` (no captures, a capture needing a retake or without a code, captures
    of different codes, labels that disagree) and the registry's errors.
    """
    if not images:
        raise EnrolRefused("need at least one capture")
    templates = [fingerprint.extract(image, region) for image in images]
    for n, template in enumerate(templates, 1):
        if issues := _issues(template):
            reasons = ", ".join(str(i) for i in issues)
            raise EnrolRefused(f"capture {n} needs a retake: {reasons}")
    if len(codes := {t.code_text for t in templates}) > 1:
        raise EnrolRefused(f"the captures show different codes: {sorted(codes)}")
    commitment, _ = commit_to([t.features.residual for t in templates], params)
    prepared = prepare_record(
        templates[0].code_text,
        commitment.to_bytes(),
        scheme=SCHEME,
        scheme_version=VERSION,
        signer=signer,
        serial=serial,
        gtin=gtin,
        region=region,
        now=now,
    )
    return register(prepared, registry)


def judge(blob: bytes, probe: Template) -> Judgement:
    """Judge ``probe`` against the commitment ``blob`` of a verified record.

    Raises `CommitmentFormatError` for a blob that is not a commitment.
    """
    commitment = Commitment.from_bytes(blob)
    if issues := _issues(probe):
        return Judgement(decision=Decision.RETAKE, opening=None, issues=issues)
    opening = open_with(commitment, probe.features.residual)
    decision = Decision.GENUINE if opening.opened else Decision.COUNTERFEIT
    return Judgement(decision=decision, opening=opening)


def _issues(template: Template) -> tuple[QualityIssue, ...]:
    """The capture's failed quality checks, and a missing code (no alignment without it)."""
    missing = () if template.located_by_code else (_NO_CODE,)
    return (*missing, *assess(template.quality))


_NO_CODE = QualityIssue(reason=RetakeReason.NO_CODE, value=0.0, threshold=1.0)
