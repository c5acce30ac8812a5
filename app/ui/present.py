"""What the pages say about results, as plain text rows; no Qt, no decisions.

Each function turns a result value into ``(label, text)`` rows or a line, so the pages
only lay them out and the wording is tested without widgets.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from app.flows.commitment import Judgement
from app.flows.history import HistoryWarning, Scan
from app.flows.verify import Verification
from fingerprint import Match
from registry_client.bundle import Bundle
from registry_client.registry import VerifiedRecord

Rows = list[tuple[str, str]]


def evidence_rows(match: Match) -> Rows:
    """The measurements behind the score."""
    e = match.evidence
    return [
        ("Matched keypoints", f"{e.inliers} inliers of {e.matches} matches"),
        ("Fine texture correlation", f"{e.fine:.3f}"),
        ("Coarse texture correlation", f"{e.coarse:.3f}"),
        ("LBP distance", f"{e.lbp_distance:.3f}"),
        ("Window overlap", f"{e.overlap:.0%}"),
        ("Print-screen novelty", f"{e.novelty:.2f}"),
    ]


def judgement_rows(judgement: Judgement) -> Rows:
    """What a capture did to an item registered by fuzzy commitment (no score, no template)."""
    opening = judgement.opening
    if opening is None:
        state = "not tried: the capture needs a retake"
    elif opening.opened:
        state = "opened: the surface is the enrolled one"
    else:
        state = "not opened: the surface code is too far from the enrolled one"
    rows = [("Scheme", "fuzzy commitment (no template on the ledger)"), ("Commitment", state)]
    if opening is not None and opening.opened and opening.corrected is not None:
        rows.append(("Bits corrected", f"{opening.corrected}"))
    if judgement.copy_score is not None:
        rows.append(("Print-copy check", f"{judgement.copy_score:+.2f} (genuine vs copy)"))
    return rows


def provenance_rows(proven: VerifiedRecord) -> Rows:
    """Who registered the item, when, and the log position that proves it."""
    record, checkpoint = proven.record, proven.checkpoint.checkpoint
    return [
        ("Item", f"GTIN {record.gtin}, serial {record.serial}"),
        ("Batch", record.batch or "—"),
        ("Manufacturer key", record.manufacturer.format()),
        *(
            [("Trusted through", " → ".join(k.format() for k in proven.trusted_through))]
            if proven.trusted_through
            else []
        ),
        ("Registered", _when(record.time)),
        ("Ledger leaf", f"{proven.leaf_index} of {checkpoint.size}"),
        ("Checkpoint", f"{checkpoint.origin}"),
        ("Checkpoint root", _short_hex(checkpoint.root_hash)),
    ]


def history_rows(history: tuple[Scan, ...]) -> Rows:
    """One row per scan, newest first: when, and where, by whom, with what verdict."""
    return [
        (
            "This scan" if scan.current else _when(scan.time),
            f"{scan.verdict} at {scan.place or 'an unnamed place'}, by {scan.device}"
            + (f" ({_when(scan.time)})" if scan.current else ""),
        )
        for scan in reversed(history)
    ]


def warning_lines(warnings: tuple[HistoryWarning, ...]) -> str:
    """The history warnings, one line each."""
    return "\n".join(f"⚠ {warning.message}" for warning in warnings)


def guidance(verification: Verification) -> str:
    """What to do next: retake advice, or why the outcome overrides the match."""
    lines = [verification.reason] if verification.reason else []
    if verification.match is not None:
        lines += [f"• {issue.reason.value}" for issue in verification.match.issues]
    if verification.judgement is not None:
        lines += [f"• {issue.reason.value}" for issue in verification.judgement.issues]
    return "\n".join(lines)


def bundle_state(bundle: Bundle) -> str:
    """``FRESH`` or ``STALE``: an expired bundle never opens."""
    return "STALE — refresh soon" if bundle.stale else "FRESH"


def bundle_rows(bundle: Bundle, trust: str) -> Rows:
    """What a verified bundle covers, how old it is and when it expires."""
    m = bundle.manifest
    checkpoint = m.checkpoint
    return [
        ("State", bundle_state(bundle)),
        ("Trusted by", trust),
        ("Signed by", bundle.exporter.reference),
        ("Covers", m.selection.describe()),
        ("Contents", f"{m.counts.records} records, {m.counts.templates} templates"),
        ("Created", f"{_when(m.created)} (age {_days(bundle.age)})"),
        ("Stale from", _when(m.warn_after)),
        ("Expires", f"{_when(m.expires)} (in {_days(m.expires - bundle.checked_at)})"),
        ("Checkpoint", f"{checkpoint.origin}, size {checkpoint.size}"),
        ("Checkpoint root", _short_hex(checkpoint.root_hash)),
    ]


def outbox_line(queued: int, path: Path) -> str:
    """How many verification events wait to be synced, and where."""
    if not queued:
        return f"Outbox: empty ({path})"
    events = "event waits" if queued == 1 else "events wait"
    return f"Outbox: {queued} signed verification {events} to be synced ({path})"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _days(span: timedelta) -> str:
    return f"{span.total_seconds() / 86400:.1f} days"


def _short_hex(data: bytes) -> str:
    return f"{data.hex()[:16]}…"
