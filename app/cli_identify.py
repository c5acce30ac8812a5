"""``hallmark identify IMAGE --registry DIR|BUNDLE|URL``: find an item by its surface alone.

Prints the candidates the index proposed, each re-ranked by the full matcher against
its verified record, and the verdict. Exit status 0 identified, 4 retake, 5 not found;
2 bad input, 6 a failed security check (as ``hallmark verify``).

The index is kept in ``--index FILE`` (default: one file per registry in the state
folder), brought up to date when the registry changed; a registry server searches its
own (``POST /identify``) and every candidate it proposes is still verified here.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli_common import guarded
from app.flows import keys

if TYPE_CHECKING:
    from app.flows.identify import Identification


def register_commands(subparsers: Any) -> None:
    """Add ``identify`` to ``subparsers``."""
    cmd = subparsers.add_parser(
        "identify", help="find which registered item an image shows, without its serial"
    )
    cmd.add_argument("image", type=Path)
    cmd.add_argument("--registry", required=True, help="ledger folder, offline bundle or URL")
    cmd.add_argument("--policy", type=Path, help="trust policy file (for a bundle or URL)")
    cmd.add_argument("--index", type=Path, help="index file (default: in the state folder)")
    cmd.add_argument("-k", type=int, default=5, help="candidates to re-rank (default 5)")
    cmd.set_defaults(command=_identify)


@guarded
def _identify(args: argparse.Namespace) -> int:
    from app.flows.identify import identify, index_of
    from registry_client.client import open_registry
    from registry_client.embedded import read_policy

    if args.k < 1:
        raise ValueError(f"-k must be at least 1, got {args.k}")
    policy = read_policy(args.policy) if args.policy else None
    registry = open_registry(args.registry, policy, keys.state_dir())
    try:
        index = index_of(registry, args.index or _default_index(args.registry))
        result = identify(args.image, registry=registry, index=index, k=args.k)
    finally:
        registry.close()
    print(_report(result))
    return result.outcome.exit_code


def _default_index(target: str) -> Path:
    name = hashlib.sha256(str(Path(target).resolve()).encode()).hexdigest()[:16]
    return keys.state_dir() / f"index-{name}.hmix"


def _report(result: Identification) -> str:
    best = result.best
    window = "located by its code" if result.located_by_code else "whole image (no code read)"
    if best is None:
        head = "NOT FOUND: no registered item has a code near this surface's"
    else:
        head = f"{result.outcome.value.upper()}: {best.ranked.candidate.label}"
    searched = (
        "searched by the registry server"
        if result.index_size is None
        else f"{result.index_size} items indexed"
    )
    lines = [head, f"  {searched}; window {window}"]
    for rank, found in enumerate(result.candidates, 1):
        c, m = found.ranked.candidate, found.ranked.match
        lines.append(
            f"  {rank}. {c.label}  code distance {c.distance}  "
            f"{m.decision.value} score {m.score:+.2f}"
        )
    if best is not None and result.outcome.exit_code == 0:
        cp = best.proven.checkpoint.checkpoint
        lines.append(
            f"  leaf {best.proven.leaf_index} of {cp.origin} size {cp.size}, "
            f"registered by {best.proven.record.manufacturer.format()}"
        )
        if best.proven.withdrawn:
            lines.append("  WARNING: the manufacturer has withdrawn this item")
    return "\n".join(lines)
