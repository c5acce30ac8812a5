"""Hologram use cases: enrol a burst into a template file, match one, evaluate a dataset.

`analyse_enrolled` matches a burst against the hologram enrolled on a registry for the
item typed or read from the burst.

Evaluation pairs every genuine burst with its item's enrolment (genuine) and with every
other item's enrolment (another item of the same product: the zero-effort impostor),
and each attack burst with the item it imitates. EER and FRR come from the identity
log-odds of the genuine and other-item pairs whose bursts were acquired (code found,
enough frames and angles);
acceptance is the share of pairs decided *genuine*, retakes included in the count.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from app.flows.batch import parallel_map
from app.flows.verify import enrolled_hologram, typed_item
from fingerprint import Decision, FingerprintError
from fingerprint.calibrate import Fusion, fit_fusion
from fingerprint.evaluate import OperatingPoint, equal_error_rate, frr_at_far
from fingerprint.gs1 import parse
from fingerprint.hologram import (
    HologramReason,
    HologramTemplate,
    HologramVerdict,
    TiltCoverage,
    extract_hologram,
    load_burst,
    match_hologram,
)
from fingerprint.hologram.params import HologramParams
from fingerprint.hologram.verify import template_coverage
from fingerprint.synth.hologram_dataset import BurstRow, HologramRole, read_burst_manifest
from registry_client.item import ItemId
from registry_client.registry import Registry

Burst = Path | Sequence[NDArray[np.uint8]]
"""A tilt burst: a video file, a folder of frames, or the frames (BGR uint8, one size)."""

_UNJUDGED = {
    str(r)
    for r in (HologramReason.NO_CODE, HologramReason.TOO_FEW_FRAMES, HologramReason.TOO_FEW_ANGLES)
}
GENUINE = "genuine"
OTHER_ITEM = "other_item"
ATTACKS = tuple(
    str(r) for r in (HologramRole.PRINTED_COPY, HologramRole.SCREEN, HologramRole.GENERIC_FILM)
)


def extract_file(
    source: Path, out: Path, params: HologramParams = HologramParams()
) -> HologramTemplate:
    """Analyse the burst at ``source`` (video or folder) and write its template to ``out``."""
    template = extract_hologram(load_burst(source, params.burst), params=params)
    part = out.with_name(out.name + ".part")
    part.write_bytes(template.to_bytes())
    part.replace(out)
    return template


def load_template(source: Burst, params: HologramParams = HologramParams()) -> HologramTemplate:
    """A ``.hmh`` template file, or a burst (video, folder or frames) analysed on the spot."""
    if isinstance(source, Path) and source.suffix == ".hmh":
        return HologramTemplate.from_bytes(source.read_bytes())
    return extract_hologram(load_burst(source, params.burst), params=params)


@dataclass(frozen=True, slots=True, kw_only=True)
class HoloPair:
    probe: str
    reference_item: str
    role: str
    score: float
    decision: Decision
    reasons: tuple[str, ...]
    features: tuple[float, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class HoloReport:
    """Metrics of one hologram evaluation; rates are shares (0–1)."""

    dataset: str
    created: str
    genuine_pairs: int
    impostor_pairs: int
    eer: float
    frr_at_far: tuple[OperatingPoint, ...]
    genuine_rejected: float
    acceptance: dict[str, float]
    decisions: dict[str, dict[str, int]]
    reasons: dict[str, dict[str, int]]
    failed: dict[str, str]
    pairs: tuple[HoloPair, ...] = field(repr=False)


def evaluate_holograms(
    dataset: Path, *, params: HologramParams = HologramParams(), workers: int | None = None
) -> HoloReport:
    """Analyse every burst of ``dataset`` (a folder with manifest.csv) and score its pairs."""
    rows = read_burst_manifest(dataset / "manifest.csv")

    def analyse(row: BurstRow) -> HologramTemplate | FingerprintError:
        try:
            return extract_hologram(load_burst(dataset / row.path, params.burst), params=params)
        except FingerprintError as exc:
            return exc

    analysed = parallel_map(analyse, rows, label="bursts", unit="burst", workers=workers)
    templates = {
        r.path: t for r, t in zip(rows, analysed, strict=True) if isinstance(t, HologramTemplate)
    }
    failed = {
        str(r.path): str(t)
        for r, t in zip(rows, analysed, strict=True)
        if not isinstance(t, HologramTemplate)
    }
    usable = [r for r in rows if r.path in templates]
    pairs = _pairs(usable)

    def score(pair: tuple[BurstRow, BurstRow, str]) -> HoloPair:
        probe, enrol, role = pair
        verdict = match_hologram(templates[enrol.path], templates[probe.path], params)
        return HoloPair(
            probe=str(probe.path),
            reference_item=enrol.item_id,
            role=role,
            score=verdict.score,
            decision=verdict.decision,
            reasons=tuple(str(r) for r in verdict.reasons),
            features=verdict.evidence.features,
        )

    results = parallel_map(score, pairs, label="matching", unit="pair", workers=workers)
    return _report(dataset, results, failed)


def _pairs(rows: Sequence[BurstRow]) -> list[tuple[BurstRow, BurstRow, str]]:
    enrol = {r.item_id: r for r in rows if r.role == HologramRole.ENROL}
    pairs = []
    for r in rows:
        if r.role == HologramRole.ENROL or r.target_item not in enrol:
            continue
        pairs.append((r, enrol[r.target_item], str(r.role)))
        if r.role == HologramRole.GENUINE:
            pairs.extend(
                (r, other, OTHER_ITEM) for other in enrol.values() if other.item_id != r.item_id
            )
    return pairs


def _report(dataset: Path, results: list[HoloPair], failed: dict[str, str]) -> HoloReport:
    def judged(role: str) -> NDArray[np.float64]:
        acquired = [p for p in results if p.role == role and not set(p.reasons) & _UNJUDGED]
        return np.array([p.score for p in acquired], np.float64)

    genuine, impostor = judged(GENUINE), judged(OTHER_ITEM)
    eer = equal_error_rate(genuine, impostor)[0] if len(genuine) and len(impostor) else float("nan")
    points = (
        tuple(frr_at_far(genuine, impostor, far) for far in (1e-2, 1e-3))
        if len(genuine) and len(impostor)
        else ()
    )
    roles = (GENUINE, OTHER_ITEM, *ATTACKS)
    decisions = {
        role: dict(Counter(str(p.decision) for p in results if p.role == role)) for role in roles
    }
    reasons = {
        role: dict(Counter(reason for p in results if p.role == role for reason in p.reasons))
        for role in roles
    }

    def accepted(role: str) -> float:
        chosen = [p for p in results if p.role == role]
        return sum(p.decision == Decision.GENUINE for p in chosen) / len(chosen) if chosen else 0.0

    return HoloReport(
        dataset=str(dataset),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        genuine_pairs=len(genuine),
        impostor_pairs=len(impostor),
        eer=eer,
        frr_at_far=points,
        genuine_rejected=1.0 - accepted(GENUINE),
        acceptance={role: accepted(role) for role in (OTHER_ITEM, *ATTACKS)},
        decisions=decisions,
        reasons=reasons,
        failed=failed,
        pairs=tuple(results),
    )


def fit_identity(report: HoloReport) -> Fusion:
    """Fit the identity fusion: genuine pairs against other items and generic film."""
    chosen = [
        p for p in report.pairs if p.role in (GENUINE, OTHER_ITEM, str(HologramRole.GENERIC_FILM))
    ]
    features = np.array([p.features for p in chosen], np.float64)
    same = np.array([p.role == GENUINE for p in chosen])
    return fit_fusion(features, same, retake_share=0.005, reject_share=0.002)


def summary(report: HoloReport) -> str:
    """The report as a few lines of text for the terminal."""
    lines = [
        f"hologram evaluation of {report.dataset}: {report.genuine_pairs} genuine and "
        f"{report.impostor_pairs} other-item pairs judged",
        f"EER {_pct(report.eer)}"
        + "".join(
            f", FRR at FAR {p.target_far:g} {_pct(p.frr)}{'' if p.resolved else '*'}"
            for p in report.frr_at_far
        ),
        f"genuine not accepted {_pct(report.genuine_rejected)}",
    ]
    for role, share in report.acceptance.items():
        lines.append(
            f"{role} accepted {_pct(share)}  decisions {report.decisions[role]}  "
            f"reasons {report.reasons[role]}"
        )
    lines.append(
        f"genuine decisions {report.decisions[GENUINE]}  reasons {report.reasons[GENUINE]}"
    )
    if report.failed:
        lines.append(f"{len(report.failed)} bursts could not be analysed")
    lines.append("'*': a FAR the impostor count cannot resolve")
    return "\n".join(lines)


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


@dataclass(frozen=True, slots=True, kw_only=True)
class BurstResult:
    """A burst analysed for the app: its template, what it covered, and the verdict
    against ``reference`` when one was given."""

    template: HologramTemplate
    coverage: TiltCoverage
    verdict: HologramVerdict | None
    item: ItemId | None = None
    """The registered item whose hologram ``reference`` was, if it came from a registry."""


def analyse_burst(
    source: Burst, reference: HologramTemplate | None, params: HologramParams = HologramParams()
) -> BurstResult:
    """Analyse the burst ``source`` (video, folder or frames); match it when ``reference``
    is set."""
    template = load_template(source, params)
    return BurstResult(
        template=template,
        coverage=template_coverage(template, params),
        verdict=None if reference is None else match_hologram(reference, template, params),
    )


def analyse_enrolled(
    source: Burst,
    registry: Registry,
    serial_text: str = "",
    gtin_text: str = "",
    params: HologramParams = HologramParams(),
) -> BurstResult:
    """Analyse the burst ``source`` and match it against the hologram enrolled for the
    item typed (`app.flows.verify.typed_item`) or, where left blank, read from the burst.

    Raises `TypedItemError`, ``ValueError`` when no item is known, the registry's errors
    (`NotRegisteredError`, a `VerificationError`), and `NoHologramError`.
    """
    template = load_template(source, params)
    gtin, serial = typed_item(serial_text, gtin_text)
    if (gtin is None or serial is None) and template.code_text:
        code = parse(template.code_text)
        gtin, serial = gtin or code.gtin, serial or code.serial
    if gtin is None or serial is None:
        raise ValueError("no code was read from the burst; type the item's serial and GTIN")
    item = ItemId(gtin=gtin, serial=serial)
    reference = enrolled_hologram(registry.lookup(item))
    return BurstResult(
        template=template,
        coverage=template_coverage(template, params),
        verdict=match_hologram(reference, template, params),
        item=item,
    )
