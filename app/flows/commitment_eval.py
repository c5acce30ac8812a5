"""How well fuzzy commitments tell items apart and refuse print copies, by enrolment count.

On a dataset from `hallmark synth` (``--captures`` at least the largest count, better 3
more; ``--print-copies K`` for K copies per item): each item is committed to from its
first ``m`` captures that pass the checks (``enrol.jpg``, then ``genuine-00`` …); the
genuine captures after those of the largest ``m`` are the probes, the same for every
``m``. Every probe is judged as `app.flows.commitment.judge` judges it: a capture that
fails a check is a retake, one that does not open the commitment a counterfeit, one that
opens it goes through the print-copy check (genuine, counterfeit, or a retake when too
close to call). A genuine probe not judged genuine is a false reject; impostors are the
first probe of every other item, and the item's copied-serial, print-copy and twin
captures. Print copies are counted opened and accepted (judged genuine), the latter
with its one-sided 95% Clopper–Pearson bound, overall and by material.

Alongside: the outer bits the decoder corrected; for the largest ``m`` the inputs of the
entropy estimate in docs/commitment.md (the share of ones among committed bits, the
other items' distances and their binomial degrees of freedom, Daugman 2004:
``μ(1 − μ)/σ²``, the distance from the best guess an attacker can make from the other
items, how often neighbouring committed coefficients share a sign), and what the stored
texture level says about an item (its spread within and between items).

`fit` fits the print-copy check (`CopyParams`) to an evaluation's genuine probes and
print copies that opened a commitment.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from app.flows.commitment import surface
from fingerprint import Decision
from fingerprint.calibrate import fit_fusion, thresholds_in_gap
from fingerprint.commitment import (
    Commitment,
    CommitmentParams,
    CopyEvidence,
    CopyParams,
    commit,
    copy_score,
    decide,
    examine,
    open_commitment,
    screen_peak,
)
from fingerprint.commitment.code import Enrolled, band_values, enrol, neighbours
from fingerprint.commitment.scheme import outer_sums
from fingerprint.commitment.texture import enrolled_level, texture_level
from fingerprint.evaluate import upper_bound
from fingerprint.synth import ManifestRow, Material, Role, read_manifest

_ATTACKS = (Role.COPIED_SERIAL, Role.PRINT_COPY, Role.TWIN)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Of ``tried`` probes, ``opened`` opened a commitment and ``accepted`` were judged
    genuine (opened and passed the print-copy check)."""

    opened: int
    accepted: int
    tried: int

    @property
    def rate(self) -> float:
        """Share accepted."""
        return self.accepted / self.tried if self.tried else float("nan")

    @property
    def upper(self) -> float:
        """One-sided 95% Clopper–Pearson upper bound on the acceptance rate."""
        return upper_bound(self.accepted, self.tried) if self.tried else float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """Results for commitments made from ``enrol_captures`` captures of each item."""

    enrol_captures: int
    enrolled: int
    """Items with that many captures passing the checks."""
    genuine: Tally
    retakes: int
    """Genuine probes that failed a capture check (counted as false rejects)."""
    unclear: int
    """Genuine probes that opened, but that the print-copy check sent to a retake."""
    other_items: Tally
    copied_serial: Tally
    print_copy: Tally
    twin: Tally
    print_copy_by_material: tuple[tuple[Material, Tally], ...]
    corrected: tuple[int, ...]
    """Outer bits corrected in each genuine opening."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Distances:
    """Fractional Hamming distances of one kind of pair, at each commitment's mask."""

    mean: float
    std: float

    @property
    def degrees_of_freedom(self) -> float:
        """Daugman's binomial degrees of freedom, ``μ(1 − μ)/σ²``."""
        mu = self.mean
        return mu * (1 - mu) / self.std**2 if self.std > 0 else float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class Entropy:
    """The inputs of the entropy estimate, for the largest enrolment count."""

    ones_share: float
    """Share of ones among committed bits, over items (largest enrolment count)."""
    other_bits: Distances
    """Other items' probes against each enrolled code, committed bits."""
    other_outer: Distances
    """The same after the soft vote of the repetition code, outer bits."""
    guess_distance: float
    """Distance of each committed code from the best guess an attacker who knows the
    mask can make from the other items' enrolled codes (their majority, bit by bit)."""
    neighbour_agreement: float
    """Share of neighbouring coefficients (same part), both committed, of equal sign."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelSpread:
    """The texture level of one material's usable genuine captures: its standard
    deviation within an item (capture to capture) and between items (of their means,
    less what the within-item spread explains)."""

    material: Material
    items: int
    within: float
    between: float

    def bits(self, captures: int) -> float:
        """What a level enrolled from ``captures`` captures tells about which item of
        the material it is, as a Gaussian channel: ½ log₂(1 + between² / (within² / m))."""
        noise = self.within**2 / captures
        return 0.5 * math.log2(1 + self.between**2 / noise) if noise > 0 else float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    params: CommitmentParams
    copy: CopyParams
    """The print-copy check the rows were judged with (fitted, with ``fit=True``)."""
    rows: tuple[Row, ...]
    entropy: Entropy
    levels: tuple[LevelSpread, ...]


@dataclass(frozen=True, slots=True)
class _Capture:
    row: ManifestRow
    usable: bool
    values: NDArray[np.float32] | None
    """`band_values` of the window; None without a frame."""
    peak: float
    level: float


@dataclass(frozen=True, slots=True)
class _Trial:
    """One probe against one commitment: whether it opened, and its copy evidence."""

    enrol_captures: int
    target: str
    probe: _Capture
    opened: bool
    corrected: int | None
    evidence: CopyEvidence | None


_Items = dict[str, dict[Role, list[_Capture]]]


def evaluate(
    dataset: Path,
    enrol_counts: Sequence[int] = (1, 2, 3, 5),
    params: CommitmentParams = CommitmentParams(),
    *,
    copy: CopyParams = CopyParams(),
    fit: bool = False,
    workers: int = 2,
) -> Report:
    """Evaluate commitments on ``dataset`` (a folder with ``manifest.csv``).

    With ``fit`` the print-copy check is first fitted to this dataset (`fit_copy`) and
    the rows judged with it; else with ``copy``. Raises ``ValueError`` for bad counts or
    a dataset with too few genuine captures.
    """
    if not enrol_counts or min(enrol_counts) < 1:
        raise ValueError(f"want enrolment counts ≥ 1, got {list(enrol_counts)}")
    most = max(enrol_counts)
    rows = read_manifest(dataset / "manifest.csv")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        captures = list(pool.map(lambda r: _load(dataset, r, params, copy), rows))
    items: _Items = defaultdict(lambda: defaultdict(list))
    for c in sorted(captures, key=lambda c: c.row.path):
        items[c.row.target_item][c.row.role].append(c)
    for name, shots in items.items():
        if len(shots[Role.GENUINE]) < most:
            raise ValueError(
                f"item {name} has {len(shots[Role.GENUINE])} genuine captures; enrolling "
                f"from up to {most} needs at least {most} (hallmark synth --captures)"
            )
    trials = {m: _trials(items, m, most, params, copy) for m in enrol_counts}
    if fit:
        copy = fit_copy([t for each in trials.values() for t in each], copy)
    enrolled = _enrolled(items, most, most)
    return Report(
        params=params,
        copy=copy,
        rows=tuple(_row(trials[m], m, len(_enrolled(items, m, most)), copy) for m in enrol_counts),
        entropy=_entropy(items, {n: code for n, (code, _) in enrolled.items()}, most, params),
        levels=_levels(items),
    )


def fit_copy(trials: Sequence[_Trial], copy: CopyParams = CopyParams()) -> CopyParams:
    """The print-copy check fitted to the genuine probes and print copies that opened.

    Logistic regression on standardised features (`calibrate.fit_fusion`); the
    thresholds lie in the gap between the two (`calibrate.thresholds_in_gap`:
    ``genuine_at`` halfway, ``counterfeit_below`` at the highest copy). Raises
    ``ValueError`` without both kinds.
    """
    scored = [
        t
        for t in trials
        if t.evidence is not None
        and (
            t.probe.row.role is Role.PRINT_COPY
            or (t.probe.row.role is Role.GENUINE and t.probe.usable)
        )
    ]
    features = np.array([t.evidence.features for t in scored if t.evidence is not None])
    same = np.array([t.probe.row.role is Role.GENUINE for t in scored])
    if not same.any() or same.all():
        raise ValueError(
            "fitting the print-copy check needs genuine probes and print copies that opened"
        )
    fusion = fit_fusion(features, same, standardise=True)
    scores = fusion.scores(features)
    placed = thresholds_in_gap(fusion, scores[same], scores[~same])
    return dataclasses.replace(
        copy,
        weights=placed.weights,
        bias=placed.bias,
        genuine_at=placed.genuine_at,
        counterfeit_below=placed.counterfeit_below,
    )


def _load(dataset: Path, row: ManifestRow, params: CommitmentParams, copy: CopyParams) -> _Capture:
    capture = surface(dataset / row.path)
    framed = capture.framed
    if framed is None:
        return _Capture(row=row, usable=False, values=None, peak=float("nan"), level=float("nan"))
    return _Capture(
        row=row,
        usable=not capture.issues,
        values=band_values(framed.patch, params.shortest_px, params.longest_px),
        peak=screen_peak(framed.patch, copy),
        level=texture_level(framed.patch, framed.contrast, copy)
        if framed.contrast > 0
        else float("nan"),
    )


def _enrolled(items: _Items, m: int, most: int) -> dict[str, tuple[Enrolled, float]]:
    """Each item's code and stored texture level from its first ``m`` usable captures
    (items with fewer: left out)."""
    codes = {}
    for name, shots in items.items():
        pool = [c for c in (*shots[Role.ENROL], *shots[Role.GENUINE][: most - 1]) if c.usable]
        if len(pool) >= m:
            chosen = pool[:m]
            code = enrol([c.values for c in chosen if c.values is not None])
            codes[name] = (code, enrolled_level([c.level for c in chosen]))
    return codes


def _trials(
    items: _Items, m: int, most: int, params: CommitmentParams, copy: CopyParams
) -> list[_Trial]:
    """Every probe against every commitment made from ``m`` captures."""
    commitments = {
        name: commit(code, params, level=level)[0]
        for name, (code, level) in _enrolled(items, m, most).items()
    }
    trials = []
    for name, commitment in commitments.items():
        probes = [
            *items[name][Role.GENUINE][most - 1 :],
            *(p for role in _ATTACKS for p in items[name][role]),
            *(shots[Role.GENUINE][most - 1] for other, shots in items.items() if other != name),
        ]
        trials += [_trial(m, name, commitment, probe, copy) for probe in probes]
    return trials


def _trial(
    m: int, target: str, commitment: Commitment, probe: _Capture, copy: CopyParams
) -> _Trial:
    if probe.values is None:
        return _Trial(m, target, probe, opened=False, corrected=None, evidence=None)
    opening = open_commitment(commitment, probe.values)
    evidence = examine(commitment, opening, probe.peak, copy) if opening.opened else None
    return _Trial(m, target, probe, opening.opened, opening.corrected, evidence)


def _decision(trial: _Trial, copy: CopyParams) -> Decision:
    """As `app.flows.commitment.judge` decides, from a trial's measurements."""
    if not trial.probe.usable:
        return Decision.RETAKE
    if trial.evidence is None:
        return Decision.COUNTERFEIT
    return decide(copy_score(trial.evidence, copy), copy)


def _row(trials: Sequence[_Trial], m: int, enrolled: int, copy: CopyParams) -> Row:
    def tally(chosen: Sequence[_Trial]) -> Tally:
        return Tally(
            opened=sum(t.opened for t in chosen),
            accepted=sum(_decision(t, copy) is Decision.GENUINE for t in chosen),
            tried=len(chosen),
        )

    def own(role: Role) -> list[_Trial]:
        return [
            t for t in trials if t.probe.row.role is role and t.probe.row.target_item == t.target
        ]

    genuine = own(Role.GENUINE)
    copies = own(Role.PRINT_COPY)
    opened = [t for t in genuine if t.probe.usable and t.opened]
    return Row(
        enrol_captures=m,
        enrolled=enrolled,
        genuine=tally(genuine),
        retakes=sum(not t.probe.usable for t in genuine),
        unclear=sum(_decision(t, copy) is Decision.RETAKE for t in opened),
        other_items=tally(
            [
                t
                for t in trials
                if t.probe.row.role is Role.GENUINE and t.probe.row.target_item != t.target
            ]
        ),
        copied_serial=tally(own(Role.COPIED_SERIAL)),
        print_copy=tally(copies),
        twin=tally(own(Role.TWIN)),
        print_copy_by_material=tuple(
            (material, tally([t for t in copies if t.probe.row.material is material]))
            for material in sorted({t.probe.row.material for t in copies})
        ),
        corrected=tuple(t.corrected for t in opened if t.corrected is not None),
    )


def _levels(items: _Items) -> tuple[LevelSpread, ...]:
    """The texture level's spread within and between items, by material."""
    by_material: dict[Material, list[list[float]]] = defaultdict(list)
    for shots in items.values():
        own = [
            c
            for c in (*shots[Role.ENROL], *shots[Role.GENUINE])
            if c.usable and np.isfinite(c.level)
        ]
        if len(own) >= 2:
            by_material[own[0].row.material].append([c.level for c in own])
    spreads = []
    for material, levels in sorted(by_material.items()):
        within = float(np.sqrt(np.mean([np.var(each, ddof=1) for each in levels])))
        means = [float(np.mean(each)) for each in levels]
        per_item = np.mean([within**2 / len(each) for each in levels])
        spread = float(np.var(means, ddof=1)) - per_item if len(means) > 1 else 0.0
        spreads.append(
            LevelSpread(
                material=material,
                items=len(levels),
                within=within,
                between=math.sqrt(max(spread, 0.0)),
            )
        )
    return tuple(spreads)


def _entropy(
    items: _Items,
    enrolled: dict[str, Enrolled],
    most: int,
    params: CommitmentParams,
) -> Entropy:
    ones, bits, outer, guessed, agree = [], [], [], [], []
    pairs = neighbours(params.shortest_px, params.longest_px)
    signs = {name: code.signs for name, code in enrolled.items()}
    ones_count = np.sum(list(signs.values()), axis=0)
    for name, code in enrolled.items():
        mask = code.mask(params.code_bits)
        reference = code.signs[mask]
        ones.append(float(reference.mean()))
        both = mask[pairs[:, 0]] & mask[pairs[:, 1]]
        agree.append(code.signs[pairs[both, 0]] == code.signs[pairs[both, 1]])
        if len(signs) > 1:
            majority = (ones_count - code.signs) * 2 > len(signs) - 1
            guessed.append(float(np.mean(majority[mask] != reference)))
        for other, shots in items.items():
            probe = shots[Role.GENUINE][most - 1]
            if other == name or probe.values is None:
                continue
            seen = probe.values[mask]
            bits.append(float(np.mean((seen > 0) != reference)))
            votes = np.where(reference, 1.0, -1.0) * seen
            outer.append(float(np.mean(outer_sums(params, votes) <= 0)))
    return Entropy(
        ones_share=_mean(ones),
        other_bits=Distances(mean=_mean(bits), std=float(np.std(bits))),
        other_outer=Distances(mean=_mean(outer), std=float(np.std(outer))),
        guess_distance=_mean(guessed),
        neighbour_agreement=float(np.mean(np.concatenate(agree))) if agree else float("nan"),
    )


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def table(report: Report) -> str:
    """The report as Markdown tables and a few lines of entropy and leakage inputs."""
    p, c = report.params, report.copy
    lines = [
        f"band {p.shortest_px}–{p.longest_px} px; {p.code_bits} committed bits = {p.repeat} × "
        f"{p.blocks} × BCH({p.bch.block_bits}, {8 * p.data_bytes}) over GF(2^{p.m}), t = {p.t} "
        f"per block ({p.t / p.bch.block_bits:.1%}); secret {8 * p.secret_bytes} bits",
        f"print-copy check: score = {c.bias:+.4f} + ({', '.join(f'{w:+.4f}' for w in c.weights)})"
        f" · (flip log-odds at {c.coarse_px[0]:g}–{c.coarse_px[1]:g} px, log screen peak at "
        f"{c.screen_px[0]:g}–{c.screen_px[1]:g} px, enrolled texture level); genuine at "
        f"≥ {c.genuine_at:+.4f}, counterfeit below {c.counterfeit_below:+.4f}",
        "",
        "| enrolment captures | items | FRR (genuine not accepted) | capture retakes | "
        "copy-check retakes | FAR other items | copied serial accepted | twin accepted | "
        "print copies opened | print copies accepted (95% upper bound) | "
        "outer bits corrected (mean / max) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        g = r.genuine
        fixed = f"{np.mean(r.corrected):.1f} / {max(r.corrected)}" if r.corrected else "–"
        lines.append(
            f"| {r.enrol_captures} | {r.enrolled} | {1 - g.rate:.1%} ({g.tried - g.accepted}/"
            f"{g.tried}) | {r.retakes} | {r.unclear} | {_share(r.other_items)} | "
            f"{_share(r.copied_serial)} | {_share(r.twin)} | "
            f"{r.print_copy.opened / max(r.print_copy.tried, 1):.1%} ({r.print_copy.opened}/"
            f"{r.print_copy.tried}) | {_share(r.print_copy)} (< {r.print_copy.upper:.2%}) | "
            f"{fixed} |"
        )
    materials = [m for m, _ in report.rows[0].print_copy_by_material] if report.rows else []
    lines += [
        "",
        "print copies accepted by material (opened in brackets):",
        "",
        "| enrolment captures | " + " | ".join(materials) + " |",
        "|---|" + "---|" * len(materials),
    ]
    for r in report.rows:
        cells = [f"{t.accepted}/{t.tried} ({t.opened})" for _, t in r.print_copy_by_material]
        lines.append(f"| {r.enrol_captures} | " + " | ".join(cells) + " |")
    e = report.entropy
    b, o = e.other_bits, e.other_outer
    most = max((r.enrol_captures for r in report.rows), default=1)
    lines += [
        "",
        f"committed bits that are ones: {e.ones_share:.1%}; other items: committed bits "
        f"{b.mean:.3f} ± {b.std:.4f} ({b.degrees_of_freedom:.0f} degrees of freedom of "
        f"{p.code_bits}), outer bits {o.mean:.3f} ± {o.std:.4f} ({o.degrees_of_freedom:.0f} of "
        f"{p.outer_bits}); distance from the other items' majority guess "
        f"{e.guess_distance:.3f}; neighbouring committed coefficients of equal sign "
        f"{e.neighbour_agreement:.1%}",
        "texture level (ln) by material, sd within an item / between items, and what a level "
        f"enrolled from 1 / {most} captures says about the item: "
        + "; ".join(
            f"{s.material} {s.within:.3f} / {s.between:.3f}, "
            f"{s.bits(1):.1f} / {s.bits(most):.1f} bits"
            for s in report.levels
        ),
    ]
    return "\n".join(lines)


def _share(t: Tally) -> str:
    return f"{t.rate:.2%} ({t.accepted}/{t.tried})"
