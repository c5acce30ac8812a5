"""``hallmark bundle export|inspect``: offline bundles from the command line.

`register_commands` adds the ``bundle`` command to ``hallmark``'s subparsers. Each
command returns an exit status; bad input raises `BundleCommandError` (a ``ValueError``)
or ``OSError`` with a one-line message, which ``hallmark`` prints.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from registry_client.bundle import (
    Bundle,
    BundleRegistry,
    Outbox,
    Selection,
    SelectionKind,
    export_bundle,
    open_bundle,
    read_bundled_policy,
)
from registry_client.errors import RegistryError
from registry_client.item import ItemId
from registry_client.note import SignerKey
from registry_client.policy import TrustPolicy
from registry_client.proof_text import format_proof


class BundleCommandError(ValueError):
    """Bad input to a ``bundle`` command, or a check it ran failed."""


def register_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``bundle export`` and ``bundle inspect`` to ``hallmark``'s subparsers."""
    bundle = subparsers.add_parser("bundle", help="offline bundles for inspectors")
    commands = bundle.add_subparsers(required=True, metavar="ACTION")

    export = commands.add_parser("export", help="write a signed bundle from a ledger folder")
    export.add_argument("--ledger", type=Path, required=True, help="ledger folder")
    export.add_argument("--out", type=Path, required=True, help="bundle file to write")
    chosen = export.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--manufacturer", metavar="KEYID", help="manufacturer key name+hash")
    chosen.add_argument("--sku")
    chosen.add_argument("--batch")
    chosen.add_argument(
        "--items", type=Path, metavar="FILE", help="one item per line: (01)GTIN(21)SERIAL"
    )
    export.add_argument("--key", type=Path, required=True, help="exporter's signing key file")
    export.add_argument("--expires-days", type=int, required=True, metavar="N")
    export.add_argument("--stale-days", type=int, metavar="N", help="default: half of expiry")
    export.add_argument("--policy", type=Path, required=True, help="trust policy file")
    export.set_defaults(command=_export)

    inspect = commands.add_parser("inspect", help="verify a bundle and describe it")
    inspect.add_argument("bundle", type=Path)
    inspect.add_argument(
        "--policy",
        type=Path,
        help="trust policy to verify with (default: the bundle's own, which proves nothing)",
    )
    inspect.set_defaults(command=_inspect)

    proof = commands.add_parser(
        "proof", help="print an item's c2sp.org/tlog-proof@v1 (its entry in the extra line)"
    )
    proof.add_argument("bundle", type=Path)
    proof.add_argument("item", help="(01)GTIN(21)SERIAL, quoted for the shell")
    proof.add_argument("--policy", type=Path, required=True, help="trust policy file")
    proof.set_defaults(command=_proof)


def _export(args: argparse.Namespace) -> int:
    if args.expires_days < 1:
        raise BundleCommandError(f"--expires-days must be at least 1, got {args.expires_days}")
    stale = None if args.stale_days is None else timedelta(days=args.stale_days)
    policy = _read_policy(args.policy)
    try:
        signer = SignerKey.parse(args.key.read_text(encoding="utf-8").strip())
        summary = export_bundle(
            args.ledger,
            args.out,
            _selection(args),
            policy=policy,
            signer=signer,
            expires=timedelta(days=args.expires_days),
            warn_after=stale,
        )
    except (RegistryError, LookupError) as exc:
        raise BundleCommandError(f"cannot export: {exc}") from exc
    m = summary.manifest
    print(
        f"wrote {summary.path} ({summary.size_bytes:,} bytes): {m.counts.records} records, "
        f"{m.counts.templates} templates, {m.counts.tiles} tiles"
    )
    print(f"covers {m.selection.describe()} at log size {m.checkpoint.size}")
    print(f"signed by {summary.exporter.reference}; expires {m.expires.isoformat()}")
    return 0


def _selection(args: argparse.Namespace) -> Selection:
    if args.items is not None:
        lines = args.items.read_text(encoding="utf-8").splitlines()
        values = tuple(dict.fromkeys(s.strip() for s in lines if s.strip() and s[0] != "#"))
        kind = SelectionKind.ITEMS
    else:
        kind, value = next(
            (k, getattr(args, k.value))
            for k in (SelectionKind.MANUFACTURER, SelectionKind.SKU, SelectionKind.BATCH)
            if getattr(args, k.value) is not None
        )
        values = (value,)
    try:
        return Selection(kind=kind, values=values)
    except ValueError as exc:
        raise BundleCommandError(f"bad selection: {exc}") from exc


def _read_policy(path: Path) -> TrustPolicy:
    try:
        return TrustPolicy.parse(path.read_bytes())
    except RegistryError as exc:
        raise BundleCommandError(f"{path}: {exc}") from exc


def _inspect(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    if args.policy is not None:
        policy, trust = _read_policy(args.policy), f"policy {args.policy}"
    else:
        trust = "the bundle's own policy (integrity only: pass --policy to establish trust)"
    try:
        if args.policy is None:
            policy = read_bundled_policy(args.bundle)
        bundle = open_bundle(args.bundle, policy, now=now)
    except RegistryError as exc:
        print(f"{args.bundle}: verification FAILED ({type(exc).__name__}): {exc}")
        return 1
    for line in describe(bundle, trust):
        print(line)
    return 0


def _proof(args: argparse.Namespace) -> int:
    policy = _read_policy(args.policy)
    try:
        item = ItemId.parse(args.item)
    except ValueError as exc:
        raise BundleCommandError(str(exc)) from exc
    try:
        bundle = open_bundle(args.bundle, policy)
        found = BundleRegistry(bundle, Outbox(os.devnull)).lookup(item)
    except RegistryError as exc:
        print(f"{args.bundle}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    note = found.checkpoint.note.format()
    print(format_proof(found.leaf_index, found.inclusion_proof, note, extra=found.envelope), end="")
    return 0


def describe(bundle: Bundle, trust: str) -> list[str]:
    """The lines ``inspect`` prints for a verified bundle."""
    m = bundle.manifest
    witnessed = bundle.witnessed_at
    status = "STALE: refresh soon" if bundle.stale else "fresh"
    return [
        f"bundle     {bundle.path}",
        f"verified   OK against {trust}; signed by {bundle.exporter.reference}",
        f"coverage   {m.selection.describe()}",
        f"items      {m.counts.records} records, {m.counts.entries} entries, "
        f"{m.counts.templates} templates, {m.counts.tiles} tiles",
        f"created    {m.created.isoformat()}  (age {_days(bundle.age)})",
        f"stale from {m.warn_after.isoformat()}  ({status})",
        f"expires    {m.expires.isoformat()}  (in {_days(m.expires - bundle.checked_at)})",
        f"checkpoint {m.checkpoint.origin} size {m.checkpoint.size} "
        f"root {m.checkpoint.root_hash.hex()}",
        "witnessed  "
        + (
            f"{witnessed.isoformat()} (age {_days(bundle.checked_at - witnessed)})"
            if witnessed
            else "no cosignature accepted by the policy"
        ),
    ]


def _days(span: timedelta) -> str:
    return f"{span.total_seconds() / 86400:.1f} days"
