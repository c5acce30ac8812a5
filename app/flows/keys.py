"""Manufacturer and device keys on disk, their key events, and the default local registry.

A key named NAME is two files in a key folder: ``NAME.skey`` (the C2SP signed-note
private key, mode 0600) and ``NAME.vkey`` (its public vkey, to give to registries and
verifiers). The default folder is ``<user data dir>/hallmark/keys``.

The default registry is a ledger folder at ``<user data dir>/hallmark/ledger``, made on
first use with its own log key. It is a single-user sandbox: it trusts the log key
stored in it and every manufacturer key in the default key folder, whenever that key
was made. A verifier elsewhere trusts nothing of it until given its ``policy`` file.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import platformdirs

from registry_client.embedded import POLICY, create_ledger, is_ledger, read_policy
from registry_client.errors import RecordFormatError
from registry_client.item import ItemId
from registry_client.note import KeyType, SignerKey, VerifierKey, check_key_name
from registry_client.policy import TrustPolicy
from registry_client.records import KeyAction, KeyEvent, Revocation, Signer
from registry_client.registry import Registry

APP = "hallmark"
SKEY_SUFFIX = ".skey"
VKEY_SUFFIX = ".vkey"


class KeyFileError(ValueError):
    """A key file is missing, exists already, or does not hold a key."""


def data_dir() -> Path:
    """``<user data dir>/hallmark`` (platformdirs; ``XDG_DATA_HOME`` on Linux)."""
    return platformdirs.user_data_path(APP)


def default_key_dir() -> Path:
    """Where `new_key` writes keys unless told otherwise."""
    return data_dir() / "keys"


def default_ledger_dir() -> Path:
    """The default local ledger folder."""
    return data_dir() / "ledger"


def state_dir() -> Path:
    """Remembered checkpoints and queued events (``XDG_STATE_HOME`` on Linux)."""
    return platformdirs.user_state_path(APP) / "registry"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyFiles:
    """A key's public half and where its files are."""

    key: VerifierKey
    vkey_path: Path
    skey_path: Path


def new_key(name: str, directory: Path) -> KeyFiles:
    """Make key ``name`` in ``directory``; refuses to overwrite an existing key."""
    try:
        check_key_name(name)
    except ValueError as exc:
        raise KeyFileError(str(exc)) from exc
    directory.mkdir(parents=True, exist_ok=True)
    skey_path, vkey_path = directory / (name + SKEY_SUFFIX), directory / (name + VKEY_SUFFIX)
    signer = SignerKey.generate(name)
    try:
        fd = os.open(skey_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(f"{skey_path} exists; choose another name") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(signer.format() + "\n")
    vkey_path.write_text(signer.verifier.format() + "\n", encoding="utf-8")
    return KeyFiles(key=signer.verifier, vkey_path=vkey_path, skey_path=skey_path)


def list_keys(directory: Path) -> list[KeyFiles]:
    """The keys in ``directory`` (by their ``.vkey`` files), sorted by name."""
    if not directory.is_dir():
        return []
    return [
        KeyFiles(
            key=read_vkey(path),
            vkey_path=path,
            skey_path=path.with_suffix(SKEY_SUFFIX),
        )
        for path in sorted(directory.glob("*" + VKEY_SUFFIX))
    ]


def read_vkey(path: Path) -> VerifierKey:
    """The vkey in file ``path``."""
    try:
        return VerifierKey.parse(path.read_text(encoding="utf-8").strip())
    except (RecordFormatError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: not a vkey file ({exc})") from exc


def load_signer(path: Path) -> Signer:
    """The record signer in ``.skey`` file ``path``."""
    try:
        return Signer.from_skey(path.read_text(encoding="utf-8").strip())
    except (RecordFormatError, ValueError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: not a private key file ({exc})") from exc


def revoke_key(registry: Registry, signer: Signer, *, now: datetime | None = None) -> int | None:
    """Log that ``signer``'s key is revoked, signed by that key; the leaf (None: queued).

    Verifiers then refuse every record the key signed, whenever it was logged.
    """
    event = KeyEvent(action=KeyAction.REVOKE, key=signer.verifier, previous=None, time=_now(now))
    return registry.append_event(signer.sign(event))


def rotate_key(
    registry: Registry, old: Signer, new: VerifierKey, *, now: datetime | None = None
) -> int | None:
    """Log that key ``new`` replaces ``old``, signed by ``old``; the leaf (None: queued).

    Verifiers and registries that trust ``old`` trust ``new`` for what is logged after
    this event, and ``old`` signs nothing more (`registry_client.succession`).
    """
    event = KeyEvent(action=KeyAction.ROTATE, key=new, previous=old.key_id, time=_now(now))
    return registry.append_event(old.sign(event))


def withdraw_item(
    registry: Registry, signer: Signer, item: ItemId, reason: str, *, now: datetime | None = None
) -> int | None:
    """Log the manufacturer's withdrawal of ``item``; the leaf (None: queued).

    Verifiers then call the item counterfeit whatever its fingerprint says.
    """
    revocation = Revocation(
        gtin=item.gtin,
        serial=item.serial,
        reason=reason,
        manufacturer=signer.key_id,
        time=_now(now),
    )
    return registry.append_event(signer.sign(revocation))


def witness_key(path: Path, name: str) -> VerifierKey:
    """The cosignature/v1 witness key in ``path``, made as ``name`` (0600) if absent."""
    if path.exists():
        try:
            key = SignerKey.parse(path.read_text(encoding="utf-8").strip())
        except (RecordFormatError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"{path}: not a private key file ({exc})") from exc
        if key.name != name:
            raise KeyFileError(f"{path} holds witness {key.name!r}, not {name!r}")
        return key.verifier
    try:
        check_key_name(name)
    except ValueError as exc:
        raise KeyFileError(str(exc)) from exc
    key = SignerKey.generate(name, key_type=KeyType.COSIGNATURE_V1)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key.format() + "\n")
    return key.verifier


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).replace(microsecond=0)


def default_registry(ledger: Path, key_dir: Path) -> TrustPolicy:
    """Make the default ledger on first use; its policy plus every key in ``key_dir``."""
    if not is_ledger(ledger):
        if ledger.exists() and any(ledger.iterdir()):
            raise KeyFileError(f"{ledger} exists but is not a ledger folder")
        create_ledger(ledger, SignerKey.generate(f"hallmark.local/{secrets.token_hex(4)}"))
    policy = read_policy(ledger / POLICY)
    known = {key.public_key for key in policy.manufacturers}
    extra = tuple(k.key for k in list_keys(key_dir) if k.key.public_key not in known)
    return TrustPolicy(
        logs=policy.logs,
        witnesses=policy.witnesses,
        groups=policy.groups,
        quorum=policy.quorum,
        manufacturers=(*policy.manufacturers, *extra),
        devices=policy.devices,
    )
