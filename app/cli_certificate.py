"""``hallmark verify-certificate FILE.pdf``: check a verification certificate.

The trust policy (log key, witnesses, manufacturer and device keys) defaults to the
local ledger's, as for ``hallmark verify``. The issuing device must be one given with
``--device-key``, else one of the policy's ``device`` keys when it lists any. Exit 0 when
every check passes, 6 when one fails (`app.cli_common.VERIFICATION_FAILED`), 2 for a
file that is not a well-formed certificate.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli_common import guarded
from app.flows import keys
from app.flows.certificate import verify_certificate, vouched
from registry_client.embedded import read_policy


def register_commands(subparsers: Any) -> None:
    """Add ``verify-certificate`` to ``subparsers``."""
    cmd = subparsers.add_parser(
        "verify-certificate", help="check a verification certificate PDF (exit 0/2/6)"
    )
    cmd.add_argument("pdf", type=Path)
    cmd.add_argument(
        "--policy", type=Path, help="trust policy file (default: the local ledger's policy)"
    )
    cmd.add_argument(
        "--device-key",
        type=Path,
        action="append",
        default=[],
        metavar="VKEY",
        help="accept only certificates issued by this device .vkey (repeatable)",
    )
    cmd.set_defaults(command=_verify_certificate)


@guarded
def _verify_certificate(args: argparse.Namespace) -> int:
    if args.policy:
        policy = read_policy(args.policy)
    else:
        policy = keys.default_registry(keys.default_ledger_dir(), keys.default_key_dir())
    issuers = tuple(keys.read_vkey(path) for path in args.device_key)
    cert = verify_certificate(args.pdf.read_bytes(), policy, issuers=issuers)
    record, event, cp = cert.record, cert.event, cert.checkpoint
    print(f"OK: {cert.outcome.value.upper()} — GTIN {record.gtin} serial {record.serial}")
    print(
        f"  score {event.score:+.2f} (genuine at ≥ {cert.genuine_at}, "
        f"counterfeit below {cert.counterfeit_below})"
    )
    trust = "trusted" if vouched(cert, policy, issuers) else "not listed in the policy"
    print(f"  verified {event.time.isoformat()} by device {cert.device_key.reference} ({trust})")
    print(f"  registered {record.time.isoformat()} by {record.manufacturer.format()}")
    print(f"  leaf {cert.leaf_index} of {cp.origin} size {cp.size} root {cp.root_hash.hex()}")
    print(f"  payload sha256 {cert.digest}")
    if cert.reason:
        print(f"  {cert.reason}")
    return 0
