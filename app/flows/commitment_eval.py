"""How well fuzzy commitments tell items apart, by the number of enrolment captures.

On a dataset from `hallmark synth` (``--captures`` at least the largest count, better 3 more): each
item is committed to from its first ``m`` captures that pass the quality checks
(``enrol.jpg``, then ``genuine-00`` …); the genuine captures after those of the
largest ``m`` are the probes, the same for every ``m``. A genuine probe that does not
open its commitment is a false reject (a retake counts as one and is also reported);
impostors are the first probe of every other item, and the item's copied-serial,
print-copy and twin captures. Alongside: the bits the decoder corrected, and for the
largest ``m`` the share of ones among committed bits and the degrees of freedom of
other-item distances (Daugman 2004: ``μ(1 − μ)/σ²``) and the distance from the best
guess an attacker can make from the other items, the inputs of the entropy estimate in
docs/commitment.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

import fingerprint
from app.flows.commitment import _issues
from fingerprint.commitment import Commitment, CommitmentParams, commit, open_commitment
from fingerprint.commitment.code import (
    PROBE_ANGLES_DEG,
    PROBE_SCALES,
    enrolled_code,
    hypothesis_codes,
    selected_bits,
)
from fingerprint.synth import ManifestRow, Role, read_manifest

_IDENTITY = PROBE_ANGLES_DEG.index(0.0) * len(PROBE_SCALES) + PROBE_SCALES.index(1.0)
_ATTACKS = (Role.COPIED_SERIAL, Role.PRINT_COPY, Role.TWIN)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """``opened`` of ``tried`` probes opened a commitment."""

    opened: int
    tried: int

    @property
    def rate(self) -> float:
        return self.opened / self.tried if self.tried else float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """Results for commitments made from ``enrol_captures`` captures of each item."""

    enrol_captures: int
    enrolled: int
    """Items with that many captures passing the quality checks."""
    genuine: Tally
    retakes: int
    """Genuine probes that failed a quality check (counted as not opened)."""
    other_items: Tally
    copied_serial: Tally
    print_copy: Tally
    twin: Tally
    corrected: tuple[int, ...]
    """Bits corrected in each genuine opening."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    params: CommitmentParams
    rows: tuple[Row, ...]
    ones_share: float
    """Share of ones among committed bits, over items (largest enrolment count)."""
    other_distance_mean: float
    other_distance_std: float
    """Fractional Hamming distance of other items' codes at each commitment's mask."""
    guess_distance: float
    """Distance of each committed code from the best guess an attacker who knows the
    mask can make from the other items' enrolled codes (their majority, bit by bit)."""

    @property
    def degrees_of_freedom(self) -> float:
        """Daugman's binomial degrees of freedom of the other-item distances."""
        mu, sigma = self.other_distance_mean, self.other_distance_std
        return mu * (1 - mu) / sigma**2 if sigma > 0 else float("nan")


@dataclass(frozen=True, slots=True)
class _Capture:
    row: ManifestRow
    residual: NDArray[np.int8]
    usable: bool
    codes: NDArray[np.uint8]
    """(H, pool_bits) 0/1 under every alignment hypothesis."""


def evaluate(
    dataset: Path,
    enrol_counts: Sequence[int] = (1, 2, 3, 5),
    params: CommitmentParams = CommitmentParams(),
    *,
    workers: int = 2,
) -> Report:
    """Evaluate commitments on ``dataset`` (a folder with ``manifest.csv``).

    Raises ``ValueError`` for bad counts or a dataset with too few genuine captures.
    """
    if not enrol_counts or min(enrol_counts) < 1:
        raise ValueError(f"want enrolment counts ≥ 1, got {list(enrol_counts)}")
    most = max(enrol_counts)
    rows = read_manifest(dataset / "manifest.csv")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        captures = list(pool.map(lambda r: _load(dataset, r, params.pool_bits), rows))
    items: dict[str, dict[Role, list[_Capture]]] = defaultdict(lambda: defaultdict(list))
    for c in sorted(captures, key=lambda c: c.row.path):
        items[c.row.target_item][c.row.role].append(c)
    for name, shots in items.items():
        if len(shots[Role.GENUINE]) < most:
            raise ValueError(
                f"item {name} has {len(shots[Role.GENUINE])} genuine captures; enrolling "
                f"from up to {most} needs at least {most} (hallmark synth --captures)"
            )
    results = [_row(items, m, most, params) for m in enrol_counts]
    return Report(
        params=params,
        rows=tuple(r for r, _ in results),
        ones_share=results[-1][1][0],
        other_distance_mean=results[-1][1][1],
        other_distance_std=results[-1][1][2],
        guess_distance=results[-1][1][3],
    )


def _load(dataset: Path, row: ManifestRow, pool_bits: int) -> _Capture:
    template = fingerprint.extract(dataset / row.path)
    residual = template.features.residual
    return _Capture(
        row=row,
        residual=residual,
        usable=not _issues(template),
        codes=hypothesis_codes(residual, pool_bits),
    )


def _row(
    items: dict[str, dict[Role, list[_Capture]]], m: int, most: int, params: CommitmentParams
) -> tuple[Row, tuple[float, float, float, float]]:
    commitments: dict[str, tuple[Commitment, NDArray[np.uint8]]] = {}
    codes: dict[str, NDArray[np.uint8]] = {}
    for name, shots in items.items():
        pool = [c for c in (*shots[Role.ENROL], *shots[Role.GENUINE][: most - 1]) if c.usable]
        if len(pool) >= m:
            code = enrolled_code([c.residual for c in pool[:m]], params.pool_bits)
            commitment, _ = commit(code, params)
            commitments[name] = (commitment, selected_bits(code, commitment.mask))
            codes[name] = np.unpackbits(code.bits)
    genuine, attacks = _Counter(), {role: _Counter() for role in _ATTACKS}
    others, retakes, corrected = _Counter(), 0, []
    ones, distances, guessed = [], [], []
    ones_count = np.sum(list(codes.values()), axis=0)
    for name, (commitment, reference) in commitments.items():
        chosen = np.unpackbits(commitment.mask).astype(bool)
        ones.append(float(reference.mean()))
        if len(codes) > 1:
            majority = (ones_count - codes[name]) * 2 > len(codes) - 1
            guessed.append(float(np.mean(majority[chosen] != reference)))
        for probe in items[name][Role.GENUINE][most - 1 :]:
            retakes += not probe.usable
            opening = open_commitment(commitment, probe.codes[:, chosen])
            genuine.add(opening.opened and probe.usable)
            if opening.opened and probe.usable and opening.corrected is not None:
                corrected.append(opening.corrected)
        for role, counter in attacks.items():
            for probe in items[name][role]:
                counter.add(open_commitment(commitment, probe.codes[:, chosen]).opened)
        for other, shots in items.items():
            if other != name:
                probe = shots[Role.GENUINE][most - 1]
                others.add(open_commitment(commitment, probe.codes[:, chosen]).opened)
                distances.append(float(np.mean(probe.codes[_IDENTITY, chosen] != reference)))
    row = Row(
        enrol_captures=m,
        enrolled=len(commitments),
        genuine=genuine.tally(),
        retakes=retakes,
        other_items=others.tally(),
        copied_serial=attacks[Role.COPIED_SERIAL].tally(),
        print_copy=attacks[Role.PRINT_COPY].tally(),
        twin=attacks[Role.TWIN].tally(),
        corrected=tuple(corrected),
    )
    return row, (_mean(ones), _mean(distances), float(np.std(distances)), _mean(guessed))


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


class _Counter:
    def __init__(self) -> None:
        self.opened = self.tried = 0

    def add(self, opened: bool) -> None:
        self.opened += opened
        self.tried += 1

    def tally(self) -> Tally:
        return Tally(opened=self.opened, tried=self.tried)


def table(report: Report) -> str:
    """The report as a Markdown table and a few lines of entropy inputs."""
    p = report.params
    lines = [
        f"{p.code_bits} committed bits of {p.pool_bits}; {p.blocks} × BCH({p.bch.block_bits}, "
        f"{8 * p.bch.data_bytes}) over GF(2^{p.m}), t = {p.t} per block "
        f"({p.t / p.bch.block_bits:.1%}); secret {8 * p.secret_bytes} bits",
        "",
        "| enrolment captures | items | FRR (genuine not opened) | of which retake | "
        "FAR other items | copied serial opened | print copy opened | twin opened | "
        "bits corrected (mean / max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        frr = 1 - r.genuine.rate
        fixed = f"{np.mean(r.corrected):.0f} / {max(r.corrected)}" if r.corrected else "–"
        lines.append(
            f"| {r.enrol_captures} | {r.enrolled} | {frr:.1%} ({r.genuine.tried - r.genuine.opened}"
            f"/{r.genuine.tried}) | {r.retakes} | {_share(r.other_items)} | "
            f"{_share(r.copied_serial)} | {_share(r.print_copy)} | {_share(r.twin)} | {fixed} |"
        )
    lines += [
        "",
        f"committed bits that are ones: {report.ones_share:.1%}; other-item distance "
        f"{report.other_distance_mean:.3f} ± {report.other_distance_std:.3f} "
        f"({report.degrees_of_freedom:.0f} degrees of freedom of {p.code_bits} bits); "
        f"distance from the other items' majority guess {report.guess_distance:.3f}",
    ]
    return "\n".join(lines)


def _share(t: Tally) -> str:
    return f"{t.rate:.2%} ({t.opened}/{t.tried})"
