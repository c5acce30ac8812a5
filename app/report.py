"""Write an evaluation as JSON, a DET-curve PNG and a self-contained HTML page."""

from __future__ import annotations

import dataclasses
import html
import json
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm

from app.flows.evaluation import GENUINE, IMPOSTOR_ROLES, TARGET_FRR, EvalReport, GroupMetrics
from fingerprint import Decision
from fingerprint.evaluate import det_curve


def write_report(report: EvalReport, out: Path) -> dict[str, Path]:
    """Write report.json, det.png and report.html into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "det": out / "det.png", "html": out / "report.html"}
    _atomic_write(paths["json"], json.dumps(_as_json(report), indent=2, default=str) + "\n")
    _plot_det(report, paths["det"])
    _atomic_write(paths["html"], _html(report))
    return paths


def summary(report: EvalReport) -> str:
    """A plain-text table of the metrics, for the terminal."""
    lines = [
        f"{'group':<10} {'gen':>5} {'imp':>6} {'EER':>8} {'FRR@1e-3':>9} {'FRR@1e-4':>9} "
        f"{'FRR@thr':>8} {'copied':>7} {'print':>7} {'twin':>7} {'1st-pass':>8} {'FTA':>6} "
        f"{'FTE':>6}"
    ]
    for g in report.groups:
        at3, at4 = g.frr_at_far
        a = g.attack_acceptance
        lines.append(
            f"{g.name:<10} {g.genuine_pairs:>5} {g.impostor_pairs:>6} {_pct(g.eer):>8} "
            f"{_pct(at3.frr, at3.resolved):>9} {_pct(at4.frr, at4.resolved):>9} "
            f"{_pct(g.frr_at_threshold):>8} {_pct(a['copied_serial']):>7} "
            f"{_pct(a['print_copy']):>7} {_pct(a['twin']):>7} {_pct(g.first_pass_success):>8} "
            f"{_pct(g.failure_to_acquire):>6} {_pct(g.failure_to_enrol):>6}"
        )
    lines.append(
        f"attack columns: share accepted as genuine at the decision threshold "
        f"{report.threshold:+.2f}; '*' marks FRR at a FAR the impostor count cannot resolve; "
        "FTA: genuine captures whose code was not found (a retake), left out of EER and FRR; "
        "FTE: items whose enrolment capture's code was not found, not enrolled, left out of all"
    )
    lines.extend(_print_copy_lines(report))
    lines.append(_decision_line(report))
    if report.failed_images:
        lines.append(f"{len(report.failed_images)} images could not be fingerprinted")
    return "\n".join(lines)


def _print_copy_lines(report: EvalReport) -> list[str]:
    """Print copies accepted at the decision threshold and at FRR = TARGET_FRR, overall."""
    overall = report.groups[-1]
    points = (
        ("at the decision threshold", overall.print_copy_at_threshold),
        (f"at FRR ≤ {100 * TARGET_FRR:g}%", overall.print_copy_at_target_frr),
    )
    return [
        f"print copies {where} ({p.threshold:+.2f}, FRR {_pct(p.frr)}): {p.accepted} of "
        f"{p.attacks} accepted, {_pct(p.rate)} (95% upper bound {_pct(p.upper)})"
        for where, p in points
        if p is not None
    ]


def _decision_line(report: EvalReport) -> str:
    """How many pairs of each role got each decision."""
    counts = Counter((p.role, p.decision) for p in report.pairs)
    roles = dict.fromkeys(p.role for p in report.pairs)
    parts = (f"{role} " + " ".join(f"{counts[role, d]} {d}" for d in Decision) for role in roles)
    return "decisions: " + "; ".join(parts)


def _pct(value: float, resolved: bool = True) -> str:
    return f"{100 * value:.2f}%" + ("" if resolved else "*")


def _as_json(report: EvalReport) -> dict[str, object]:
    data = dataclasses.asdict(report)
    data["pairs"] = [{**dataclasses.asdict(p), "decision": p.decision.value} for p in report.pairs]
    return data


def _plot_det(report: EvalReport, path: Path) -> None:
    """DET curve on normal-deviate axes (Martin et al. 1997), one line per group."""
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ticks = np.array([1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5])
    for g in report.groups:
        pairs = (
            report.pairs
            if g.name == "overall"
            else [p for p in report.pairs if p.material == g.name]
        )
        genuine = np.array([p.score for p in pairs if p.role == GENUINE and p.acquired])
        impostor = np.array([p.score for p in pairs if p.role in IMPOSTOR_ROLES and p.acquired])
        if len(genuine) == 0 or len(impostor) == 0:
            continue
        _, far, frr = det_curve(genuine, impostor)
        clip = (1e-5, 0.5)
        ax.plot(
            norm.ppf(np.clip(far, *clip)),
            norm.ppf(np.clip(frr, *clip)),
            label=f"{g.name} (EER {100 * g.eer:.2f}%)",
            linewidth=2.5 if g.name == "overall" else 1.2,
        )
    ax.set_xticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax.set_yticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax.set_xlim(norm.ppf(1e-5), norm.ppf(0.5))
    ax.set_ylim(norm.ppf(1e-5), norm.ppf(0.5))
    ax.set_xlabel("false accept rate (other items, copied serials)")
    ax.set_ylabel("false reject rate (genuine captures)")
    ax.set_title("Hallmark microtexture: DET")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".part.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)


def _html(report: EvalReport) -> str:
    rows = "\n".join(_html_row(g) for g in report.groups)
    failed = "".join(
        f"<li><code>{html.escape(p)}</code>: {html.escape(e)}</li>"
        for p, e in report.failed_images.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hallmark evaluation</title>
<style>body{{font:15px system-ui,sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}
th:first-child,td:first-child{{text-align:left}}</style></head><body>
<h1>Hallmark evaluation</h1>
<p>Dataset <code>{html.escape(report.dataset)}</code>, {html.escape(report.created)}.
Decision threshold (log-odds) {report.threshold:+.2f}.</p>
<table><tr><th>group</th><th>genuine pairs</th><th>impostor pairs</th><th>EER</th>
<th>FRR at FAR 1e-3</th><th>FRR at FAR 1e-4</th><th>FRR at threshold</th>
<th>other items accepted</th><th>copied serial accepted</th><th>print copy accepted</th>
<th>twin accepted</th><th>first-pass success</th><th>failure to acquire</th>
<th>failure to enrol</th></tr>
{rows}</table>
<p>An asterisk marks an FRR at a FAR smaller than one over the impostor count: an
optimistic bound, not a measurement.</p>
<img src="det.png" alt="DET curve" width="600">
{f"<h2>Images that could not be fingerprinted</h2><ul>{failed}</ul>" if failed else ""}
</body></html>
"""


def _html_row(g: GroupMetrics) -> str:
    at3, at4 = g.frr_at_far
    a = g.attack_acceptance
    cells = [
        html.escape(g.name),
        str(g.genuine_pairs),
        str(g.impostor_pairs),
        _pct(g.eer),
        _pct(at3.frr, at3.resolved),
        _pct(at4.frr, at4.resolved),
        _pct(g.frr_at_threshold),
        _pct(a["other_item"]),
        _pct(a["copied_serial"]),
        _pct(a["print_copy"]),
        _pct(a["twin"]),
        _pct(g.first_pass_success),
        _pct(g.failure_to_acquire),
        _pct(g.failure_to_enrol),
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
