"""``hallmark commit``: enrol, verify and evaluate items registered by fuzzy commitment.

``commit enrol`` commits to an item from several captures and registers the commitment
(scheme ``commitment``) signed by the manufacturer; ``commit verify`` is ``hallmark
verify`` (which handles both schemes, so mixed ledgers work, and prints the commitment's
opening); ``commit eval`` prints FRR and FAR against the number of enrolment captures
on a synthetic dataset, print copies opened and accepted (docs/commitment.md), and with
``--fit`` fits the print-copy check to it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli_common import guarded, registry_from, registry_options, verify_parser
from app.flows import keys
from app.flows.commitment import enrol_commitment
from fingerprint.commitment import CommitmentParams


def register_commands(subparsers: Any) -> None:
    """Add ``commit enrol``, ``commit verify`` and ``commit eval`` to ``subparsers``."""
    commit = subparsers.add_parser(
        "commit", help="items registered by fuzzy commitment: no template on the ledger"
    )
    sub = commit.add_subparsers(required=True, metavar="ACTION")

    enrol = sub.add_parser("enrol", help="commit to an item from several captures, register it")
    enrol.add_argument("images", type=Path, nargs="+", help="captures of one item (3-5 best)")
    enrol.add_argument("--key", type=Path, required=True, help="manufacturer .skey file")
    enrol.add_argument("--serial", help="default: the decoded code's")
    enrol.add_argument("--gtin", help="default: the decoded code's")
    _code_options(enrol)
    registry_options(enrol)
    enrol.set_defaults(command=_enrol)

    verify = sub.add_parser("verify", help="check an item, either scheme (exit 0/3/4/5/6)")
    verify_parser(verify)

    evaluate = sub.add_parser(
        "eval", help="FRR, FAR and print copies on a synthetic dataset (manifest.csv)"
    )
    evaluate.add_argument("dataset", type=Path)
    evaluate.add_argument(
        "--enrol",
        default="1,2,3,5",
        help="enrolment capture counts to compare, comma-separated (default 1,2,3,5)",
    )
    evaluate.add_argument(
        "--fit",
        action="store_true",
        help="fit the print-copy check to this dataset first (for commitment/params.py)",
    )
    evaluate.add_argument("--workers", type=int, default=2)
    _code_options(evaluate)
    evaluate.set_defaults(command=_eval)


def _code_options(parser: argparse.ArgumentParser) -> None:
    default = CommitmentParams()
    parser.add_argument(
        "--blocks", type=int, default=default.blocks, help=f"BCH blocks (default {default.blocks})"
    )
    parser.add_argument(
        "--t", type=int, default=default.t, help=f"errors corrected per block (default {default.t})"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=default.repeat,
        help=f"copies of each BCH bit, voted on softly (default {default.repeat})",
    )


def _params(args: argparse.Namespace) -> CommitmentParams:
    return CommitmentParams(blocks=args.blocks, t=args.t, repeat=args.repeat)


@guarded
def _enrol(args: argparse.Namespace) -> int:
    signer = keys.load_signer(args.key)
    params = _params(args)
    with registry_from(args) as registry:
        done = enrol_commitment(
            args.images,
            signer=signer,
            registry=registry,
            serial=args.serial,
            gtin=args.gtin,
            params=params,
        )
    proven = done.proven
    print(f"committed {proven.record.item} at leaf {proven.leaf_index}")
    print(
        f"commitment sha256 {done.template_sha256.hex()} ({proven.record.template_size} bytes; "
        f"{params.code_bits} bits from {len(args.images)} captures, "
        f"{params.repeat} × {params.blocks} × BCH t={params.t})"
    )
    return 0


def _eval(args: argparse.Namespace) -> int:
    from app.flows.commitment_eval import evaluate, table

    try:
        counts = tuple(int(n) for n in args.enrol.split(","))
    except ValueError as exc:
        raise ValueError(f"--enrol wants counts like 1,2,3,5, got {args.enrol!r}") from exc
    if not (args.dataset / "manifest.csv").is_file():
        raise ValueError(f"{args.dataset} has no manifest.csv (make one with `hallmark synth`)")
    report = evaluate(args.dataset, counts, _params(args), fit=args.fit, workers=args.workers)
    print(table(report))
    if args.fit:
        c = report.copy
        print(
            f"\nCopyParams(weights={c.weights!r}, bias={c.bias!r}, genuine_at={c.genuine_at!r}, "
            f"counterfeit_below={c.counterfeit_below!r})"
        )
    return 0
