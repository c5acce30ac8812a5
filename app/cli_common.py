"""What the ``hallmark`` commands that use a registry share: the ``--registry`` and
``--policy`` options, opening the registry they name, turning registry errors into exit
statuses, and ``verify`` with its printout (``hallmark verify`` and ``commit verify``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.flows import keys
from app.flows.verify import Verification, verify
from fingerprint.hologram import HologramTemplate
from registry_client.client import open_registry
from registry_client.embedded import read_policy
from registry_client.errors import RegistryError, VerificationError
from registry_client.registry import Registry

VERIFICATION_FAILED = 6
"""Exit status when evidence fails a security check."""


class RegistryCommandError(ValueError):
    """A registry refused or could not answer; the message says which and why."""


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn registry errors into an exit status (security) or a `RegistryCommandError`."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except VerificationError as exc:
            print(f"hallmark: verification failed: {exc}", file=sys.stderr)
            return VERIFICATION_FAILED
        except RegistryError as exc:
            raise RegistryCommandError(str(exc)) from exc

    return run


def registry_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--registry`` and ``--policy`` (read by `registry_from`)."""
    parser.add_argument("--registry", help="URL, ledger folder or bundle (default: local)")
    parser.add_argument("--policy", type=Path, help="trust policy file (needed for a URL)")


@contextmanager
def registry_from(args: argparse.Namespace) -> Iterator[Registry]:
    """The registry ``--registry`` names (the local ledger by default), closed after."""
    policy = read_policy(args.policy) if args.policy else None
    target: str | None = args.registry
    if target is None:
        ledger = keys.default_ledger_dir()
        policy = policy or keys.default_registry(ledger, keys.default_key_dir())
        target = str(ledger)
    registry = open_registry(target, policy, keys.state_dir())
    try:
        yield registry
    finally:
        registry.close()


def verify_parser(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` a ``verify`` command: the image, item, device key and registry."""
    parser.add_argument("image", type=Path)
    parser.add_argument("--serial", help="default: the serial in the decoded code")
    parser.add_argument("--gtin", help="GTIN-14; default: the decoded code's")
    parser.add_argument("--device-key", type=Path, help="sign and log the verdict (.skey)")
    hologram_option(parser, "also match this tilt burst against the enrolled hologram")
    registry_options(parser)
    parser.set_defaults(command=verify_command)


def hologram_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """Add ``--hologram BURST`` (a video, a folder of 10–60 images or a ``.hmh`` template)."""
    parser.add_argument("--hologram", type=Path, metavar="BURST", help=help_text)


def hologram_of(args: argparse.Namespace) -> HologramTemplate | None:
    """The template of ``--hologram``, analysed now; ``None`` without the option."""
    from app.flows.hologram import load_template

    return None if args.hologram is None else load_template(args.hologram)


@guarded
def verify_command(args: argparse.Namespace) -> int:
    """``hallmark verify`` (either scheme): check ``args.image``, print the verification."""
    device = keys.load_signer(args.device_key) if args.device_key else None
    hologram = hologram_of(args)
    with registry_from(args) as registry:
        result = verify(
            args.image,
            registry=registry,
            serial=args.serial,
            gtin=args.gtin,
            device=device,
            hologram=hologram,
        )
    print_verification(result)
    return result.outcome.exit_code


def print_verification(result: Verification) -> None:
    """The outcome, the match score or the commitment's opening, provenance and event."""
    item = result.proven.record.item if result.proven is not None else None
    print(f"{result.outcome.value.upper()}: {item or f'serial {result.serial}'}")
    if result.reason:
        print(f"  {result.reason}")
    if (judged := result.judgement) is not None:
        opening = judged.opening
        if opening is not None and opening.opened:
            print(f"  commitment opened, {opening.corrected} bits corrected")
            if judged.copy_score is not None:
                print(f"  print-copy check {judged.copy_score:+.2f} (log-odds genuine vs copy)")
        elif opening is not None:
            print("  commitment not opened: the surface code is too far from the enrolled one")
        for issue in judged.issues:
            print(f"  retake: {issue}")
    if result.match is not None:
        issues = ", ".join(i.reason.value for i in result.match.issues)
        print(f"  score {result.match.score:+.2f}" + (f" (retake: {issues})" if issues else ""))
    if (holo := result.hologram) is not None:
        reasons = ", ".join(map(str, holo.reasons))
        print(
            f"  hologram {holo.decision.value} score {holo.score:+.2f}"
            + (f" ({reasons})" if reasons else "")
        )
    if result.proven is not None:
        record, cp = result.proven.record, result.proven.checkpoint.checkpoint
        print(f"  registered by {record.manufacturer.format()} at {record.time.isoformat()}")
        if through := result.proven.trusted_through:
            print(f"  trusted by succession from {' → '.join(k.format() for k in through)}")
        print(f"  leaf {result.proven.leaf_index} of {cp.origin} size {cp.size}")
        print(f"  checkpoint root {cp.root_hash.hex()}")
    if result.event_queued:
        print("  event queued offline; `sync` will send it")
    elif result.event_leaf is not None:
        print(f"  event logged at leaf {result.event_leaf}")
