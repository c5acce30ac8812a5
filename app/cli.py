"""The ``hallmark`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app import (
    __version__,
    cli_bundle,
    cli_certificate,
    cli_commitment,
    cli_hologram,
    cli_identify,
    cli_registry,
)

if TYPE_CHECKING:
    from fingerprint import Template


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except KeyboardInterrupt:
        print("hallmark: interrupted", file=sys.stderr)
        return 130
    except (UsageError, OSError, ValueError) as exc:
        # FingerprintError, PairsFormatError and manifest errors are ValueErrors with a
        # specific message; anything else is a bug and keeps its traceback.
        print(f"hallmark: error: {_message(exc)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if not getattr(sys, "frozen", False):
            raise
        # The desktop bundle leaves out what only evaluation needs (packaging/hallmark.spec).
        print(
            f"hallmark: error: this command needs {exc.name}, which the desktop app leaves "
            "out; install the Python package for it",
            file=sys.stderr,
        )
        return 2


def _message(exc: Exception) -> str:
    """One line for the user: an OS error as ``FILE: reason`` (not ``[Errno 2] …``)."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hallmark", description="Product authentication by surface fingerprints."
    )
    parser.add_argument("--version", action="version", version=f"hallmark {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="make demo items, enrol, verify, write a report")
    demo.add_argument("--out", type=Path, default=Path("hallmark-demo"), help="output folder")
    demo.add_argument("--items", type=int, default=3, help="items per material")
    demo.set_defaults(command=_demo)

    synth = sub.add_parser("synth", help="generate a synthetic evaluation dataset")
    synth.add_argument("out", type=Path)
    synth.add_argument("--items", type=int, default=20, help="items per material")
    synth.add_argument("--captures", type=int, default=5, help="genuine captures per item")
    synth.add_argument("--tier", choices=("easy", "medium", "hard"), default="medium")
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument(
        "--print-copies",
        type=int,
        default=1,
        help="print copies per item, each a new copy (many measure a small acceptance cheaply)",
    )
    synth.set_defaults(command=_synth)

    evaluate = sub.add_parser("eval", help="measure accuracy on a dataset (manifest.csv)")
    evaluate.add_argument("dataset", type=Path)
    evaluate.add_argument("--out", type=Path, help="report folder (default: DATASET/report)")
    evaluate.add_argument("--workers", type=int)
    evaluate.add_argument(
        "--fit", action="store_true", help="also fit the score fusion to this dataset and print it"
    )
    evaluate.set_defaults(command=_eval)

    compare = sub.add_parser("compare", help="score image pairs from a CSV")
    compare.add_argument("--pairs", type=Path, required=True, help="CSV: reference,probe")
    compare.add_argument("--out", type=Path, required=True, help="CSV to write")
    compare.add_argument("--workers", type=int)
    compare.set_defaults(command=_compare)

    extract = sub.add_parser("extract", help="fingerprint an image into a template file")
    extract.add_argument("image", type=Path)
    extract.add_argument("--out", type=Path, required=True, help="template file to write")
    extract.set_defaults(command=_extract)

    verify = sub.add_parser("match", help="compare a capture with an enrolled one")
    verify.add_argument("reference", type=Path, help="image or template (.hmfp)")
    verify.add_argument("probe", type=Path, help="image or template (.hmfp)")
    verify.set_defaults(command=_match)

    gui = sub.add_parser("gui", help="the desktop app: verify, enrol, inspect offline")
    gui.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="save a picture of the main window once its ledger is open, then quit",
    )
    gui.set_defaults(command=_gui)

    selftest = sub.add_parser(
        "selftest", help="check that fingerprinting runs compiled and right, on a bundled sample"
    )
    selftest.set_defaults(command=_selftest)

    cli_registry.register_commands(sub)
    cli_bundle.register_commands(sub)
    cli_certificate.register_commands(sub)
    cli_identify.register_commands(sub)
    cli_hologram.register_commands(sub)
    cli_commitment.register_commands(sub)
    return parser


def _demo(args: argparse.Namespace) -> int:
    from app.flows.demo import run_demo

    if args.items < 2:
        raise UsageError(f"--items must be at least 2, got {args.items}")
    run_demo(args.out, items_per_material=args.items, say=print)
    return 0


def _gui(args: argparse.Namespace) -> int:
    from app.ui.main_window import run

    return run(sys.argv[:1], screenshot=args.screenshot)


def _selftest(args: argparse.Namespace) -> int:
    from app import selftest

    try:
        report = selftest.run()
    except selftest.SelfTestError as exc:
        print(f"hallmark {__version__} self-test FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"hallmark {__version__}")
    print(selftest.describe(report))
    return 0


def _synth(args: argparse.Namespace) -> int:
    from fingerprint.synth import Tier, write_dataset

    if args.items < 2 or args.captures < 1 or args.print_copies < 1:
        raise UsageError("need --items ≥ 2, --captures ≥ 1 and --print-copies ≥ 1")
    manifest = write_dataset(
        args.out,
        items_per_material=args.items,
        captures_per_item=args.captures,
        tier=Tier(args.tier),
        seed=args.seed,
        print_copies_per_item=args.print_copies,
    )
    print(f"wrote {manifest}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from app.flows.evaluation import evaluate_dataset, fit
    from app.report import summary, write_report

    if not (args.dataset / "manifest.csv").is_file():
        raise UsageError(f"{args.dataset} has no manifest.csv (make one with `hallmark synth`)")
    report = evaluate_dataset(args.dataset, workers=args.workers)
    paths = write_report(report, args.out or args.dataset / "report")
    print(summary(report))
    print(f"report: {paths['html']}")
    if args.fit:
        fusion = fit(report)
        weights = ", ".join(f"{w:.4f}" for w in fusion.weights)
        print(
            f"fitted fusion for fingerprint/params.py: weights=({weights}), "
            f"bias={fusion.bias:.4f}, genuine_at={fusion.genuine_at:.2f}, "
            f"counterfeit_below={fusion.counterfeit_below:.2f}"
        )
    return 0


def _compare(args: argparse.Namespace) -> int:
    from app.flows.compare import compare_pairs, write_scores

    scores = compare_pairs(args.pairs, workers=args.workers)
    write_scores(scores, args.out)
    errors = [s for s in scores if s.error]
    for s in errors:
        print(f"hallmark: {s.reference} / {s.probe}: {s.error}", file=sys.stderr)
    print(
        f"wrote {len(scores)} scores to {args.out}" + (f", {len(errors)} errors" if errors else "")
    )
    return 1 if errors else 0


def _load_template(path: Path) -> Template:
    import fingerprint

    if path.suffix == ".hmfp":
        return fingerprint.Template.from_bytes(path.read_bytes())
    return fingerprint.extract(path)


def _extract(args: argparse.Namespace) -> int:
    import fingerprint
    from fingerprint.quality import assess

    template = fingerprint.extract(args.image)
    data = template.to_bytes()
    tmp = args.out.with_name(args.out.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(args.out)
    print(f"template {template.digest()} ({len(data)} bytes) -> {args.out}")
    print(f"code: {template.code_text or 'none found (whole image used as the window)'}")
    for issue in assess(template.quality):
        print(f"retake: {issue}")
    return 0


def _match(args: argparse.Namespace) -> int:
    import fingerprint

    reference, probe = _load_template(args.reference), _load_template(args.probe)
    verdict = fingerprint.match(reference, probe)
    e = verdict.evidence
    print(f"{verdict.decision.value.upper()}  score {verdict.score:+.2f}")
    print(
        f"inliers {e.inliers}/{e.matches}, residual correlation fine {e.fine:.3f} "
        f"coarse {e.coarse:.3f}, LBP distance {e.lbp_distance:.3f}, overlap {e.overlap:.2f}"
    )
    for issue in verdict.issues:
        print(f"retake: {issue}")
    return {"genuine": 0, "counterfeit": 3, "retake": 4}[verdict.decision.value]


if __name__ == "__main__":
    sys.exit(main())
