"""Items registered by fuzzy commitment: enrol from several captures, judge one capture.

For a product line whose manufacturer will not publish templates, the ledger's
`ProductRecord` has ``scheme = "commitment"`` and its template blob is a
`fingerprint.commitment.Commitment` (so ``template_sha256`` is the commitment's
SHA-256): salted hash, helper data, reliability mask, parameters; no surface. The
record format, signatures, proofs and lookups are those of any item, so one ledger
holds both kinds; `app.flows.verify` dispatches on the record's scheme to `judge`.

Enrolment needs every capture to pass the quality checks and to show the same code
(the window must be located by it: the code's frame, refined to a fraction of a pixel
by `fingerprint.commitment.frame`, is the only alignment a commitment gets).
Verification: a capture that fails a check, or whose code was not found or its frame
not measured, is a *retake*; one that does not open the commitment is *counterfeit*; one
that opens it is then checked for a print copy (`fingerprint.commitment.copy_evidence`:
sign flips at the coarse end of the band against the recovered code, given the stored
texture level, and a halftone screen's peak): *genuine*, *counterfeit*, or a *retake*
when too close to call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

import fingerprint
from app.flows.enrol import Enrolment, EnrolRefused, prepare_record, register
from fingerprint import Decision, QualityIssue, RetakeReason, Template
from fingerprint.commitment import (
    SCHEME,
    VERSION,
    Commitment,
    CommitmentParams,
    CopyEvidence,
    CopyParams,
    Framed,
    Opening,
    commit_to,
    copy_score,
    decide,
    examine,
    frame_window,
    open_with,
    screen_peak,
)
from fingerprint.image import ImageInput, to_gray
from fingerprint.quality import assess
from fingerprint.region import RegionSpec
from registry_client.records import Signer
from registry_client.registry import Registry

__all__ = ["SCHEME", "Judgement", "Surface", "enrol_commitment", "judge", "surface"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    """A capture judged against a commitment: the decision, the opening if tried, and
    for a capture that opened it the print-copy evidence and its score (log-odds of
    the genuine surface against a copy)."""

    decision: Decision
    opening: Opening | None
    issues: tuple[QualityIssue, ...] = ()
    copy: CopyEvidence | None = None
    copy_score: float | None = None


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
    captures = [surface(image, region) for image in images]
    for n, capture in enumerate(captures, 1):
        if capture.issues:
            reasons = ", ".join(str(i) for i in capture.issues)
            raise EnrolRefused(f"capture {n} needs a retake: {reasons}")
    if len(codes := {c.template.code_text for c in captures}) > 1:
        raise EnrolRefused(f"the captures show different codes: {sorted(codes)}")
    commitment, _ = commit_to([c.framed for c in captures if c.framed is not None], params)
    prepared = prepare_record(
        captures[0].template.code_text,
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


def judge(
    blob: bytes, probe: Template, image: ImageInput, copy: CopyParams = CopyParams()
) -> Judgement:
    """Judge the capture ``image`` (whose template is ``probe``) against the commitment
    ``blob`` of a verified record.

    Raises `CommitmentFormatError` for a blob that is not a commitment (or one of a
    format this version cannot open).
    """
    commitment = Commitment.from_bytes(blob)
    capture = surface(image, template=probe)
    if capture.issues or capture.framed is None:
        return Judgement(decision=Decision.RETAKE, opening=None, issues=capture.issues)
    return judge_window(commitment, capture.framed.patch, copy)


def judge_window(
    commitment: Commitment, patch: NDArray[np.uint8], copy: CopyParams = CopyParams()
) -> Judgement:
    """Judge a usable capture's window (S, S) uint8, cut at the refined frame."""
    opening = open_with(commitment, patch)
    if not opening.opened:
        return Judgement(decision=Decision.COUNTERFEIT, opening=opening)
    evidence = examine(commitment, opening, screen_peak(patch, copy), copy)
    score = copy_score(evidence, copy)
    decision = decide(score, copy)
    unclear = QualityIssue(reason=RetakeReason.COPY_UNCLEAR, value=score, threshold=copy.genuine_at)
    return Judgement(
        decision=decision,
        opening=opening,
        issues=(unclear,) if decision is Decision.RETAKE else (),
        copy=evidence,
        copy_score=score,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Surface:
    """One capture as the commitment scheme sees it: its template (for the quality
    checks and the code's text), the window cut at the refined frame (None without a
    code), and the reasons for a retake (none: usable)."""

    template: Template
    framed: Framed | None
    issues: tuple[QualityIssue, ...]


def surface(
    image: ImageInput, region: RegionSpec = RegionSpec(), *, template: Template | None = None
) -> Surface:
    """Read ``image`` for the commitment scheme (its ``template`` is extracted unless given)."""
    gray = to_gray(image)
    template = fingerprint.extract(gray, region) if template is None else template
    framed = frame_window(gray, region)
    issues = (*assess(template.quality), *_frame_issues(framed))
    return Surface(template=template, framed=framed, issues=issues)


def _frame_issues(framed: Framed | None) -> tuple[QualityIssue, ...]:
    """No code found, or its frame not measured well enough: no alignment without it."""
    return (_NO_CODE,) if framed is None else framed.issues()


_NO_CODE = QualityIssue(reason=RetakeReason.NO_CODE, value=0.0, threshold=1.0)
