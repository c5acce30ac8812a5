"""``hallmark compare``: score a list of (reference, probe) image pairs.

PAIRS.csv has the header ``reference,probe``; paths are absolute or relative to the CSV's
folder. SCORES.csv gets ``reference,probe,score,decision`` in the same order; a pair
whose image cannot be fingerprinted gets an empty score and the decision ``error``.
Each distinct image is fingerprinted once however many pairs name it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import fingerprint
from app.flows.batch import extract_all, parallel_map
from fingerprint import FingerprintError, Template

HEADER = ("reference", "probe")


class PairsFormatError(ValueError):
    """PAIRS.csv is not a two-column ``reference,probe`` table."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PairScore:
    reference: str
    probe: str
    score: float | None
    decision: str
    error: str | None = None


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """The pairs as written in the file, checked for shape."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PairsFormatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise PairsFormatError(f"{path} is not UTF-8 text (byte {exc.start})") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(c.strip() for c in rows[0]) != HEADER:
        found = ",".join(rows[0]) if rows else "nothing"
        raise PairsFormatError(f"{path}: header must be 'reference,probe', found {found!r}")
    pairs = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 2 or not all(cell.strip() for cell in row):
            raise PairsFormatError(f"{path}:{line}: want two image paths, got {row!r}")
        pairs.append((row[0].strip(), row[1].strip()))
    return pairs


def compare_pairs(pairs_csv: Path, *, workers: int | None = None) -> list[PairScore]:
    """Fingerprint every image named in ``pairs_csv`` once, then score each pair."""
    pairs = read_pairs(pairs_csv)
    base = pairs_csv.resolve().parent
    resolved = [(base / ref, base / probe) for ref, probe in pairs]
    templates = extract_all([p for pair in resolved for p in pair], workers=workers)

    def score(index: int) -> PairScore:
        (ref_name, probe_name), (ref_path, probe_path) = pairs[index], resolved[index]
        ref, probe = templates[ref_path], templates[probe_path]
        if not isinstance(ref, Template) or not isinstance(probe, Template):
            bad = ref if isinstance(ref, FingerprintError) else probe
            return PairScore(
                reference=ref_name, probe=probe_name, score=None, decision="error", error=str(bad)
            )
        verdict = fingerprint.match(ref, probe)
        return PairScore(
            reference=ref_name,
            probe=probe_name,
            score=verdict.score,
            decision=verdict.decision.value,
        )

    return parallel_map(score, range(len(pairs)), label="matching", unit="pair", workers=workers)


def write_scores(scores: list[PairScore], out: Path) -> None:
    """Write SCORES.csv atomically (a temporary file renamed over the target)."""
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("reference", "probe", "score", "decision"))
        for s in scores:
            writer.writerow(
                (s.reference, s.probe, "" if s.score is None else f"{s.score:.6f}", s.decision)
            )
    tmp.replace(out)
