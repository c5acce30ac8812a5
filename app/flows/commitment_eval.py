"""How well fuzzy commitments tell items apart, by the number of enrolment captures.

On a dataset from `hallmark synth` (``--captures`` at least the largest count, better 3 more): each
item is committed to from its first ``m`` captures that pass the checks (``enrol.jpg``,
then ``genuine-00`` …); the genuine captures after those of the largest ``m`` are the
probes, the same for every ``m``. A genuine probe that does not open its commitment is
a false reject (a retake counts as one and is also reported); impostors are the first
probe of every other item, and the item's copied-serial, print-copy and twin captures.
Alongside: the outer bits the decoder corrected, and for the largest ``m`` the inputs of
the entropy estimate in docs/commitment.md: the share of ones among committed bits, the
other items' distances (committed bits and outer bits after the soft vote) and their
binomial degrees of freedom (Daugman 2004: ``μ(1 − μ)/σ²``), the distance from the best
guess an attacker can make from the other items, and how often neighbouring
coefficients that are both committed share a sign.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from app.flows.commitment import surface
from fingerprint.commitment import Commitment, CommitmentParams, commit, open_commitment
from fingerprint.commitment.code import Enrolled, band_values, enrol, neighbours
from fingerprint.commitment.scheme import outer_sums
from fingerprint.synth import ManifestRow, Role, read_manifest

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
    """Items with that many captures passing the checks."""
    genuine: Tally
    retakes: int
    """Genuine probes that failed a check (counted as not opened)."""
    other_items: Tally
    copied_serial: Tally
    print_copy: Tally
    twin: Tally
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
class Report:
    params: CommitmentParams
    rows: tuple[Row, ...]
    entropy: Entropy


@dataclass(frozen=True, slots=True)
class _Capture:
    row: ManifestRow
    usable: bool
    values: NDArray[np.float32] | None
    """`band_values` of the window; None without a frame."""


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
        captures = list(pool.map(lambda r: _load(dataset, r, params), rows))
    items: dict[str, dict[Role, list[_Capture]]] = defaultdict(lambda: defaultdict(list))
    for c in sorted(captures, key=lambda c: c.row.path):
        items[c.row.target_item][c.row.role].append(c)
    for name, shots in items.items():
        if len(shots[Role.GENUINE]) < most:
            raise ValueError(
                f"item {name} has {len(shots[Role.GENUINE])} genuine captures; enrolling "
                f"from up to {most} needs at least {most} (hallmark synth --captures)"
            )
    rows_out = tuple(_row(items, m, most, params) for m in enrol_counts)
    enrolled = _enrolled(items, most, most)
    return Report(params=params, rows=rows_out, entropy=_entropy(items, enrolled, most, params))


def _load(dataset: Path, row: ManifestRow, params: CommitmentParams) -> _Capture:
    capture = surface(dataset / row.path)
    values = None
    if capture.patch is not None:
        values = band_values(capture.patch, params.shortest_px, params.longest_px)
    return _Capture(row=row, usable=not capture.issues and values is not None, values=values)


def _enrolled(
    items: dict[str, dict[Role, list[_Capture]]], m: int, most: int
) -> dict[str, Enrolled]:
    """Each item's code from its first ``m`` usable captures (items with fewer: left out)."""
    codes = {}
    for name, shots in items.items():
        pool = [c for c in (*shots[Role.ENROL], *shots[Role.GENUINE][: most - 1]) if c.usable]
        if len(pool) >= m:
            codes[name] = enrol([c.values for c in pool[:m] if c.values is not None])
    return codes


def _row(
    items: dict[str, dict[Role, list[_Capture]]], m: int, most: int, params: CommitmentParams
) -> Row:
    commitments = {
        name: commit(code, params)[0] for name, code in _enrolled(items, m, most).items()
    }
    genuine, attacks = _Counter(), {role: _Counter() for role in _ATTACKS}
    others, retakes, corrected = _Counter(), 0, []
    for name, commitment in commitments.items():
        for probe in items[name][Role.GENUINE][most - 1 :]:
            retakes += not probe.usable
            opening = _open(commitment, probe)
            genuine.add(opening is not None and probe.usable)
            if opening is not None and probe.usable:
                corrected.append(opening)
        for role, counter in attacks.items():
            for probe in items[name][role]:
                counter.add(_open(commitment, probe) is not None)
        for other, shots in items.items():
            if other != name:
                others.add(_open(commitment, shots[Role.GENUINE][most - 1]) is not None)
    return Row(
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


def _open(commitment: Commitment, probe: _Capture) -> int | None:
    """Outer bits corrected if ``probe`` opens ``commitment``, else None."""
    if probe.values is None:
        return None
    return open_commitment(commitment, probe.values).corrected


def _entropy(
    items: dict[str, dict[Role, list[_Capture]]],
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
        f"band {p.shortest_px}–{p.longest_px} px; {p.code_bits} committed bits = {p.repeat} × "
        f"{p.blocks} × BCH({p.bch.block_bits}, {8 * p.data_bytes}) over GF(2^{p.m}), t = {p.t} "
        f"per block ({p.t / p.bch.block_bits:.1%}); secret {8 * p.secret_bytes} bits",
        "",
        "| enrolment captures | items | FRR (genuine not opened) | of which retake | "
        "FAR other items | copied serial opened | print copy opened | twin opened | "
        "outer bits corrected (mean / max) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        frr = 1 - r.genuine.rate
        fixed = f"{np.mean(r.corrected):.1f} / {max(r.corrected)}" if r.corrected else "–"
        lines.append(
            f"| {r.enrol_captures} | {r.enrolled} | {frr:.1%} ({r.genuine.tried - r.genuine.opened}"
            f"/{r.genuine.tried}) | {r.retakes} | {_share(r.other_items)} | "
            f"{_share(r.copied_serial)} | {_share(r.print_copy)} | {_share(r.twin)} | {fixed} |"
        )
    e = report.entropy
    b, o = e.other_bits, e.other_outer
    lines += [
        "",
        f"committed bits that are ones: {e.ones_share:.1%}; other items: committed bits "
        f"{b.mean:.3f} ± {b.std:.4f} ({b.degrees_of_freedom:.0f} degrees of freedom of "
        f"{p.code_bits}), outer bits {o.mean:.3f} ± {o.std:.4f} ({o.degrees_of_freedom:.0f} of "
        f"{p.outer_bits}); distance from the other items' majority guess "
        f"{e.guess_distance:.3f}; neighbouring committed coefficients of equal sign "
        f"{e.neighbour_agreement:.1%}",
    ]
    return "\n".join(lines)


def _share(t: Tally) -> str:
    return f"{t.rate:.2%} ({t.opened}/{t.tried})"
