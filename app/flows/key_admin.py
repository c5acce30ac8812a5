"""Key chores of the Settings page: import a key file, export a public key, rotate a key.

Keys are the files of `app.flows.keys` (``NAME.skey`` 0600 and ``NAME.vkey``). A rotation
makes a new key, logs a ``rotate`` key event signed by the old key and naming the new
one, and sets the old private key aside as ``NAME.skey.retired``: its public key stays,
so the records it signed still verify, but it signs nothing more.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from app.flows import keys
from app.flows.keys import SKEY_SUFFIX, VKEY_SUFFIX, KeyFileError, KeyFiles, load_signer, new_key
from registry_client.errors import RecordFormatError
from registry_client.note import SignerKey, VerifierKey
from registry_client.registry import Registry

RETIRED_SUFFIX = ".skey.retired"
_PRIVATE = "PRIVATE+KEY+"


def import_key(path: Path, directory: Path) -> KeyFiles:
    """Copy the key in file ``path`` (an skey or a vkey) into ``directory``.

    A private key brings its public half along. Refuses a file that holds no key, a key
    whose name cannot be a file name, and a key of that name already there.
    """
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: cannot read a key from it ({exc})") from exc
    try:
        secret = SignerKey.parse(text) if text.startswith(_PRIVATE) else None
        public = secret.verifier if secret is not None else VerifierKey.parse(text)
    except RecordFormatError as exc:
        raise KeyFileError(f"{path}: not an skey or vkey file ({exc})") from exc
    name = public.name
    if "/" in name or name.startswith("."):
        raise KeyFileError(f"key name {name!r} cannot be a file name; rename the key")
    directory.mkdir(parents=True, exist_ok=True)
    vkey_path, skey_path = directory / (name + VKEY_SUFFIX), directory / (name + SKEY_SUFFIX)
    if vkey_path.exists() or skey_path.exists():
        raise KeyFileError(f"a key named {name} is already in {directory}")
    if secret is not None:
        fd = os.open(skey_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secret.format() + "\n")
    vkey_path.write_text(public.format() + "\n", encoding="utf-8")
    return KeyFiles(key=public, vkey_path=vkey_path, skey_path=skey_path)


def export_public_key(key: KeyFiles, path: Path) -> None:
    """Write ``key``'s vkey to ``path`` (to give to registries and verifiers)."""
    path.write_text(key.key.format() + "\n", encoding="utf-8")


def rotate_key(
    key: KeyFiles, registry: Registry, *, now: datetime | None = None
) -> tuple[KeyFiles, int | None]:
    """Replace ``key`` by a new key ``NAME-2`` (or the next free number), logging the
    rotation in ``registry`` (`keys.rotate_key`) and setting the old private key aside.

    Returns the new key and the key event's leaf (``None``: queued offline). Refuses a
    key without its private half.
    """
    if not key.skey_path.exists():
        raise KeyFileError(f"{key.key.reference} has no private key here: cannot rotate it")
    old = load_signer(key.skey_path)
    directory = key.skey_path.parent
    number = 2
    while (directory / f"{key.key.name}-{number}{VKEY_SUFFIX}").exists():
        number += 1
    new = new_key(f"{key.key.name}-{number}", directory)
    leaf = keys.rotate_key(registry, old, new.key, now=now)
    key.skey_path.replace(key.skey_path.with_name(key.key.name + RETIRED_SUFFIX))
    return new, leaf
