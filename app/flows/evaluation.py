"""``hallmark eval``: accuracy of the engine on a synthetic (or any labelled) dataset.

Pairs, for each material: every genuine capture against its item's enrolment
(genuine); against every other item's enrolment of the same material (another item
carrying a copied serial, the zero-effort attack); and each attack capture against the
item it imitates (copied serial, print copy, twin).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import fingerprint
from app.flows.batch import extract_all, parallel_map
from fingerprint import Decision, Template
from fingerprint.calibrate import Fusion, fit_fusion, thresholds_in_gap
from fingerprint.evaluate import (
    AttackPoint,
    OperatingPoint,
    acceptance,
    attack_point,
    attack_point_at_frr,
    equal_error_rate,
    frr_at_far,
)
from fingerprint.params import MatchParams
from fingerprint.quality import RetakeReason
from fingerprint.synth import ManifestRow, read_manifest

GENUINE = "genuine"
OTHER_ITEM = "other_item"
ATTACKS = ("copied_serial", "print_copy", "twin")
IMPOSTOR_ROLES = (OTHER_ITEM, "copied_serial")
#: The genuine-rejection rate at which issue 2 sets the print-copy target (≤ 0.1% accepted).
TARGET_FRR = 0.01
#: Ridge of the fusion fit on standardised features: chosen by fitting on
#: runs/issue2/train20 (seed 100) and validating on runs/issue2/val (seed 300), and the
#: other way round, among 1e-5 … 1e-3 (docs/accuracy.md: the genuine FRR at which every
#: print copy is rejected was 0% and 0.4% at 1e-4, 0.4% and 1.2% without the texture).
FIT_RIDGE = 1e-4


@dataclass(frozen=True, slots=True, kw_only=True)
class PairResult:
    probe: str
    reference_item: str
    material: str
    role: str
    score: float
    decision: Decision
    features: tuple[float, ...]
    acquired: bool
    """False when the probe's code was not found (failure to acquire, ISO/IEC 19795-1)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupMetrics:
    """Metrics of one material (or all): scores are fused log-odds."""

    name: str
    genuine_pairs: int
    impostor_pairs: int
    eer: float
    eer_threshold: float
    frr_at_far: tuple[OperatingPoint, ...]
    frr_at_threshold: float
    attack_acceptance: dict[str, float]
    first_pass_success: float
    failure_to_acquire: float
    failure_to_enrol: float
    """Share of items whose enrolment capture's code was not found (ISO/IEC 19795-1): the
    window is then not where the item's captures put it, so nothing is enrolled; their
    pairs are left out of every other figure."""
    print_copy_at_threshold: AttackPoint | None
    """Print copies accepted at the decision threshold (None without print copies)."""
    print_copy_at_target_frr: AttackPoint | None
    """Print copies accepted at the threshold where FRR is at most ``TARGET_FRR``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalReport:
    dataset: str
    created: str
    threshold: float
    failed_images: dict[str, str]
    groups: tuple[GroupMetrics, ...]
    pairs: tuple[PairResult, ...] = field(repr=False)


def evaluate_dataset(
    dataset: Path, *, params: MatchParams = MatchParams(), workers: int | None = None
) -> EvalReport:
    """Fingerprint every capture of ``dataset`` (a folder with manifest.csv) and score it."""
    rows = read_manifest(dataset / "manifest.csv")
    templates = extract_all([dataset / r.path for r in rows], workers=workers)
    failed = {str(p): str(t) for p, t in templates.items() if not isinstance(t, Template)}
    usable = [r for r in rows if isinstance(templates[dataset / r.path], Template)]
    enrolments = [r for r in usable if r.role == "enrol"]
    unenrolled = {
        r.item_id for r in enrolments if not _template(templates, dataset / r.path).located_by_code
    }
    pairs = _pairs([r for r in usable if not (r.role == "enrol" and r.item_id in unenrolled)])

    def score(index: int) -> PairResult:
        probe, enrol, role = pairs[index]
        verdict = fingerprint.match(
            _template(templates, dataset / enrol.path),
            _template(templates, dataset / probe.path),
            params,
        )
        return PairResult(
            probe=str(probe.path),
            reference_item=enrol.item_id,
            material=probe.material,
            role=role,
            score=verdict.score,
            decision=verdict.decision,
            features=verdict.evidence.features,
            acquired=RetakeReason.NO_CODE not in {i.reason for i in verdict.issues},
        )

    results = parallel_map(score, range(len(pairs)), label="matching", unit="pair", workers=workers)
    by_material: dict[str, list[PairResult]] = defaultdict(list)
    for r in results:
        by_material[r.material].append(r)

    def fte(material: str | None) -> float:
        items = [r.item_id for r in enrolments if material in (None, r.material)]
        return sum(item in unenrolled for item in items) / max(len(items), 1)

    groups = [_metrics(name, by_material[name], params, fte(name)) for name in sorted(by_material)]
    groups.append(_metrics("overall", results, params, fte(None)))
    return EvalReport(
        dataset=str(dataset),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        threshold=params.genuine_at,
        failed_images=failed,
        groups=tuple(groups),
        pairs=tuple(results),
    )


def _template(templates: dict[Path, Template | fingerprint.FingerprintError], p: Path) -> Template:
    t = templates[p]
    assert isinstance(t, Template)
    return t


def _pairs(rows: list[ManifestRow]) -> list[tuple[ManifestRow, ManifestRow, str]]:
    """(probe, enrolment, role) for every pair the evaluation scores."""
    enrol = {r.item_id: r for r in rows if r.role == "enrol"}
    pairs = []
    for r in rows:
        if r.role == "enrol" or r.target_item not in enrol:
            continue
        pairs.append((r, enrol[r.target_item], str(r.role)))
        if r.role == GENUINE:
            pairs.extend(
                (r, other, OTHER_ITEM)
                for other in enrol.values()
                if other.material == r.material and other.item_id != r.item_id
            )
    return pairs


def _metrics(
    name: str, results: list[PairResult], params: MatchParams, failure_to_enrol: float
) -> GroupMetrics:
    def scores(*roles: str) -> NDArray[np.float64]:
        return np.array([r.score for r in results if r.role in roles and r.acquired], np.float64)

    genuine, impostor, copies = scores(GENUINE), scores(*IMPOSTOR_ROLES), scores("print_copy")
    eer, eer_threshold = equal_error_rate(genuine, impostor)
    decisions = [r.decision for r in results if r.role == GENUINE]
    at_threshold, at_target = (
        (
            attack_point(genuine, copies, params.genuine_at),
            attack_point_at_frr(genuine, copies, TARGET_FRR),
        )
        if len(copies)
        else (None, None)
    )
    return GroupMetrics(
        name=name,
        genuine_pairs=len(genuine),
        impostor_pairs=len(impostor),
        eer=eer,
        eer_threshold=eer_threshold,
        frr_at_far=tuple(frr_at_far(genuine, impostor, far) for far in (1e-3, 1e-4)),
        frr_at_threshold=1.0 - acceptance(genuine, params.genuine_at),
        attack_acceptance={
            role: acceptance(scores(role), params.genuine_at) for role in (OTHER_ITEM, *ATTACKS)
        },
        first_pass_success=float(np.mean([d != Decision.RETAKE for d in decisions])),
        failure_to_acquire=float(np.mean([not r.acquired for r in results if r.role == GENUINE])),
        failure_to_enrol=failure_to_enrol,
        print_copy_at_threshold=at_threshold,
        print_copy_at_target_frr=at_target,
    )


def fit(report: EvalReport) -> Fusion:
    """Fit the score fusion to this evaluation's pairs: genuine against the attacks.

    The other-item pairs are left out: thousands of them, all far below any threshold,
    they would hold most of the impostor class's weight and tilt the fit away from the
    print copies and twins that decide where the threshold can go (copied serials stand
    for the other items). The features are standardised for the fit, with a ridge of
    ``FIT_RIDGE``; the thresholds lie in the gap between the genuine pairs and the attacks
    (``calibrate.thresholds_in_gap``).
    """
    pairs = [p for p in report.pairs if p.role != OTHER_ITEM]
    features = np.array([p.features for p in pairs], np.float64)
    same = np.array([p.role == GENUINE for p in pairs])
    fusion = fit_fusion(features, same, ridge=FIT_RIDGE, standardise=True)
    scores = fusion.scores(features)
    return thresholds_in_gap(fusion, scores[same], scores[~same])
