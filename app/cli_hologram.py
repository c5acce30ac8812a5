"""``hallmark holo``: hologram bursts from the command line.

``synth DIR`` writes a synthetic hologram dataset; ``eval DIR`` measures EER and each
attack's acceptance on one; ``extract BURST -o T.hmh`` writes a template (its SHA-256
is the ``hologram_sha256`` of the item's record); ``match T.hmh BURST`` decides, with
exit status 0 genuine, 3 counterfeit, 4 retake (2: bad input, as everywhere).
A BURST is a video file or a folder of 10–60 images.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

EXIT = {"genuine": 0, "counterfeit": 3, "retake": 4}


def register_commands(subparsers: Any) -> None:
    """Add ``holo`` and its actions to ``subparsers``."""
    holo = subparsers.add_parser("holo", help="hologram tilt bursts: synth, eval, extract, match")
    sub = holo.add_subparsers(required=True, metavar="ACTION")

    synth = sub.add_parser("synth", help="write a synthetic hologram dataset")
    synth.add_argument("out", type=Path)
    synth.add_argument("--items", type=int, default=20)
    synth.add_argument("--bursts", type=int, default=2, help="genuine bursts per item")
    synth.add_argument("--attacks", type=int, default=1, help="bursts of each attack per item")
    synth.add_argument("--frames", type=int, default=16, help="frames per burst (enrolment: 24)")
    synth.add_argument("--tier", choices=("easy", "medium", "hard"), default="medium")
    synth.add_argument("--seed", type=int, default=1)
    synth.set_defaults(command=_synth)

    evaluate = sub.add_parser("eval", help="hologram EER and attack acceptance on a dataset")
    evaluate.add_argument("dataset", type=Path)
    evaluate.add_argument("--workers", type=int)
    evaluate.add_argument("--fit", action="store_true", help="also fit the identity fusion")
    evaluate.set_defaults(command=_eval)

    extract = sub.add_parser("extract", help="analyse a burst into a template file (.hmh)")
    extract.add_argument("burst", type=Path, help="video file or folder of images")
    extract.add_argument("-o", "--out", type=Path, required=True)
    extract.set_defaults(command=_extract)

    match = sub.add_parser("match", help="compare a burst with an enrolled hologram")
    match.add_argument("reference", type=Path, help="template (.hmh) or burst")
    match.add_argument("probe", type=Path, help="template (.hmh) or burst")
    match.set_defaults(command=_match)


def _synth(args: argparse.Namespace) -> int:
    from fingerprint.synth import Tier
    from fingerprint.synth.hologram_dataset import write_hologram_dataset

    if args.items < 2 or args.bursts < 1 or args.attacks < 0 or not 10 <= args.frames <= 60:
        raise ValueError("need --items ≥ 2, --bursts ≥ 1, --attacks ≥ 0 and 10 ≤ --frames ≤ 60")
    manifest = write_hologram_dataset(
        args.out,
        items=args.items,
        bursts_per_item=args.bursts,
        attacks_per_item=args.attacks,
        frames=args.frames,
        tier=Tier(args.tier),
        seed=args.seed,
    )
    print(f"wrote {manifest}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from app.flows.hologram import evaluate_holograms, fit_identity, summary

    if not (args.dataset / "manifest.csv").is_file():
        raise ValueError(
            f"{args.dataset} has no manifest.csv (make one with `hallmark holo synth`)"
        )
    report = evaluate_holograms(args.dataset, workers=args.workers)
    print(summary(report))
    if args.fit:
        fusion = fit_identity(report)
        weights = ", ".join(f"{w:.4f}" for w in fusion.weights)
        print(
            f"fitted identity fusion for fingerprint/hologram/params.py: weights=({weights}), "
            f"bias={fusion.bias:.4f}, genuine_at={fusion.genuine_at:.2f}, "
            f"counterfeit_below={fusion.counterfeit_below:.2f}"
        )
    return 0


def _extract(args: argparse.Namespace) -> int:
    from app.flows.hologram import extract_file
    from fingerprint.hologram import retake_reasons, template_liveness

    template = extract_file(args.burst, args.out)
    size = args.out.stat().st_size
    print(f"hologram template {template.digest()} ({size} bytes) -> {args.out}")
    print(f"code: {template.code_text or 'none found'}; {template.frames} frames registered")
    for retake in retake_reasons(template):
        print(f"retake: {retake}")
    for failed in template_liveness(template).reasons:
        print(f"not live: {failed}")
    return 0


def _match(args: argparse.Namespace) -> int:
    from app.flows.hologram import load_template
    from fingerprint.hologram import match_hologram

    verdict = match_hologram(load_template(args.reference), load_template(args.probe))
    e, live, cover = verdict.evidence, verdict.liveness, verdict.coverage
    print(f"{verdict.decision.value.upper()}  score {verdict.score:+.2f}")
    print(f"identity: grating orientations agree {e.orientation:.3f} (turned {e.turn_deg:+.1f}°)")
    print(
        f"liveness: optically variable {100 * live.ovd_share:.1f}% of the window, "
        f"moiré {live.moire:.1f}; tilt directions {cover.covered}/{len(cover.sectors)}"
        + (f" (missing: {', '.join(cover.missing)})" if cover.missing else "")
    )
    for reason in verdict.reasons:
        print(f"reason: {reason}")
    return EXIT[verdict.decision.value]
