"""The ledger commands of ``hallmark``: keys, registry, enrol, verify, log.

`register_commands` adds them to the main parser's subparsers. Each command returns an
exit status; bad input raises a ``ValueError`` or ``OSError`` with a clear message
(printed by ``app.cli`` as ``hallmark: error: …``, status 2). A failed security check
(signature, proof, checkpoint, revoked key, tampered file) prints
``hallmark: verification failed: …`` and exits 6.

``--registry`` takes an http(s) URL, a ledger folder or a bundle file, and defaults to
the local ledger described in `app.flows.keys`. A URL needs ``--policy FILE``: the trust
policy (log key, manufacturer keys) written as ``policy`` in the server's folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app.cli_common import (
    guarded,
    hologram_of,
    hologram_option,
    registry_from,
    registry_options,
    verify_parser,
)
from app.flows import keys
from app.flows.enrol import enrol
from registry_client.client import HttpRegistry, open_registry
from registry_client.embedded import EmbeddedRegistry, create_ledger, is_ledger, read_policy
from registry_client.item import ItemId
from registry_client.note import SignerKey


def register_commands(subparsers: Any) -> None:
    """Add ``keys``, ``registry``, ``enrol``, ``verify`` and ``log`` to ``subparsers``."""
    key_cmd = subparsers.add_parser("keys", help="manufacturer and device keys")
    key_sub = key_cmd.add_subparsers(required=True, metavar="ACTION")
    new = key_sub.add_parser("new", help="make a signing key (NAME.skey, 0600, and NAME.vkey)")
    new.add_argument("name")
    new.add_argument("--dir", type=Path, help="key folder (default: user data dir/keys)")
    new.set_defaults(command=_keys_new)
    show = key_sub.add_parser("show", help="list the keys in a folder")
    show.add_argument("--dir", type=Path, help="key folder (default: user data dir/keys)")
    show.set_defaults(command=_keys_show)
    revoke_key = key_sub.add_parser("revoke", help="log that a key is revoked (signed by it)")
    revoke_key.add_argument("--key", type=Path, required=True, help="the key's .skey file")
    registry_options(revoke_key)
    revoke_key.set_defaults(command=_keys_revoke)
    rotate = key_sub.add_parser("rotate", help="log that a new key replaces an old one")
    rotate.add_argument("--key", type=Path, required=True, help="the old key's .skey file")
    rotate.add_argument("--new", type=Path, required=True, help="the new key's .vkey file")
    registry_options(rotate)
    rotate.set_defaults(command=_keys_rotate)

    withdraw = subparsers.add_parser("revoke", help="withdraw an item you registered")
    withdraw.add_argument("item", help="(01)GTIN(21)SERIAL, quoted for the shell")
    withdraw.add_argument("--key", type=Path, required=True, help="manufacturer .skey file")
    withdraw.add_argument("--reason", required=True, help="why, e.g. stolen, recalled")
    registry_options(withdraw)
    withdraw.set_defaults(command=_revoke)

    reg_cmd = subparsers.add_parser("registry", help="create or serve a ledger folder")
    reg_sub = reg_cmd.add_subparsers(required=True, metavar="ACTION")
    init = reg_sub.add_parser("init", help="create a ledger folder with its own log key")
    init.add_argument("dir", type=Path)
    _trust_options(init)
    init.set_defaults(command=_registry_init)
    serve = reg_sub.add_parser("serve", help="serve a ledger over HTTP (created if absent)")
    serve.add_argument("--dir", type=Path, required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--database",
        metavar="URL",
        help="keep the log in PostgreSQL (postgresql://…); --dir keeps the keys and policy",
    )
    serve.add_argument(
        "--witness",
        metavar="NAME",
        help="also cosign checkpoints as witness NAME (key made in the folder if absent)",
    )
    _trust_options(serve)
    serve.set_defaults(command=_registry_serve)

    enrol_cmd = subparsers.add_parser("enrol", help="fingerprint an item and register it")
    enrol_cmd.add_argument("image", type=Path)
    enrol_cmd.add_argument(
        "--serial", help="the item's GS1 serial (AI 21); default: the decoded code's"
    )
    enrol_cmd.add_argument("--key", type=Path, required=True, help="manufacturer .skey file")
    enrol_cmd.add_argument("--gtin", help="GTIN-14, needed when the image has no code")
    hologram_option(enrol_cmd, "also enrol the item's hologram from this tilt burst")
    registry_options(enrol_cmd)
    enrol_cmd.set_defaults(command=_enrol)

    verify_cmd = subparsers.add_parser(
        "verify", help="check an item against the registry (exit 0/3/4/5/6)"
    )
    verify_parser(verify_cmd)

    log_cmd = subparsers.add_parser("log", help="audit a ledger")
    log_sub = log_cmd.add_subparsers(required=True, metavar="ACTION")
    audit = log_sub.add_parser("verify", help="recompute every tile and the root")
    audit.add_argument("target", help="ledger folder or registry URL")
    audit.add_argument("--policy", type=Path, help="trust policy file (needed for a URL)")
    audit.set_defaults(command=_log_verify)


def _trust_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trust",
        type=Path,
        action="append",
        default=[],
        metavar="VKEY",
        help="a manufacturer .vkey file the registry accepts (repeatable)",
    )
    parser.add_argument(
        "--device",
        type=Path,
        action="append",
        default=[],
        metavar="VKEY",
        help="a scanner .vkey file; if given, only these may log verifications (repeatable)",
    )


def _keys_new(args: argparse.Namespace) -> int:
    made = keys.new_key(args.name, args.dir or keys.default_key_dir())
    print(f"private key: {made.skey_path} (keep it secret)")
    print(f"public key:  {made.vkey_path}")
    print(made.key.format())
    return 0


def _keys_show(args: argparse.Namespace) -> int:
    directory = args.dir or keys.default_key_dir()
    found = keys.list_keys(directory)
    if not found:
        print(f"no keys in {directory}")
    for key in found:
        secret = "private+public" if key.skey_path.exists() else "public only"
        print(f"{key.key.format()}  ({secret}, {key.vkey_path})")
    return 0


@guarded
def _registry_init(args: argparse.Namespace) -> int:
    signer = _create(args.dir, args.trust, args.device)
    print(f"ledger {args.dir}: log key {signer.verifier.format()}")
    return 0


def _create(directory: Path, trust: list[Path], devices: list[Path]) -> SignerKey:
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty")
    signer = SignerKey.generate(f"hallmark.registry/{directory.resolve().name}")
    create_ledger(
        directory, signer, [keys.read_vkey(p) for p in trust], [keys.read_vkey(p) for p in devices]
    )
    return signer


@guarded
def _registry_serve(args: argparse.Namespace) -> int:
    from registry_server.serve import WITNESS_SKEY, serve

    if not is_ledger(args.dir):
        _create(args.dir, args.trust, args.device)
    elif args.trust or args.device:
        raise ValueError(f"{args.dir} exists: edit its policy file to trust more keys")

    if args.witness is not None:
        witness = keys.witness_key(args.dir / WITNESS_SKEY, args.witness)
        print(f"witness key: {witness.format()}", flush=True)

    def started(url: str, log_key: str) -> None:
        print(f"serving {args.dir} at {url}\nlog key: {log_key}", flush=True)

    serve(args.dir, args.host, args.port, on_started=started, database=args.database)
    return 0


@guarded
def _enrol(args: argparse.Namespace) -> int:
    signer = keys.load_signer(args.key)
    hologram = hologram_of(args)
    with registry_from(args) as registry:
        done = enrol(
            args.image,
            serial=args.serial,
            signer=signer,
            registry=registry,
            gtin=args.gtin,
            hologram=hologram,
        )
    proven = done.proven
    cp = proven.checkpoint.checkpoint
    print(f"enrolled {proven.record.item} at leaf {proven.leaf_index}")
    print(f"template sha256 {done.template_sha256.hex()}")
    if (hologram_sha256 := proven.record.hologram_sha256) is not None:
        print(f"hologram template sha256 {hologram_sha256.hex()}")
    print(f"checkpoint {cp.origin} size {cp.size} root {cp.root_hash.hex()}")
    return 0


@guarded
def _keys_revoke(args: argparse.Namespace) -> int:
    signer = keys.load_signer(args.key)
    with registry_from(args) as registry:
        leaf = keys.revoke_key(registry, signer)
    print(f"revoked {signer.key_id.format()}: {_logged(leaf)}")
    return 0


@guarded
def _keys_rotate(args: argparse.Namespace) -> int:
    old, new = keys.load_signer(args.key), keys.read_vkey(args.new)
    with registry_from(args) as registry:
        leaf = keys.rotate_key(registry, old, new)
    print(f"{new.reference} replaces {old.key_id.format()}: {_logged(leaf)}")
    print("  verifiers that trust the old key trust the new one; the old key signs nothing more")
    return 0


@guarded
def _revoke(args: argparse.Namespace) -> int:
    signer = keys.load_signer(args.key)
    item = ItemId.parse(args.item)
    with registry_from(args) as registry:
        leaf = keys.withdraw_item(registry, signer, item, args.reason)
    print(f"withdrew {item}: {_logged(leaf)}")
    return 0


def _logged(leaf: int | None) -> str:
    return "queued offline; `sync` will send it" if leaf is None else f"logged at leaf {leaf}"


@guarded
def _log_verify(args: argparse.Namespace) -> int:
    policy = read_policy(args.policy) if args.policy else None
    registry = open_registry(args.target, policy, keys.state_dir())
    try:
        if not isinstance(registry, EmbeddedRegistry | HttpRegistry):
            raise ValueError(f"{args.target}: want a ledger folder or a registry URL")
        report = registry.audit()
    finally:
        registry.close()
    cp = report.checkpoint
    print(f"OK: {cp.origin} size {cp.size} root {cp.root_hash.hex()}")
    print(f"  {report.tiles} tiles, {report.bundles} entry bundles, {report.blobs} blobs checked")
    return 0
