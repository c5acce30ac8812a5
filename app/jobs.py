"""Qt-free work the desktop app runs in `app.tasks.Task`: each a pure call on a snapshot.

The pages hand these functions what they captured on the UI thread (paths, a frame, a
registry) and get values back; nothing here knows about Qt. Batches are generators that
yield one `EnrolStep` per item and stop early when their ``cancel`` event is set.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from app.capture.files import IMAGE_SUFFIXES
from app.flows import keys
from app.flows.enrol import enrol
from fingerprint import FingerprintError
from fingerprint.image import ImageInput
from fingerprint.synth import Item, Material, Tier, capture, make_item, print_copy
from registry_client.bundle import Bundle, BundleRegistry, Outbox, open_bundle
from registry_client.embedded import EmbeddedRegistry, is_ledger, read_policy
from registry_client.errors import RegistryError
from registry_client.policy import TrustPolicy
from registry_client.records import Signer
from registry_client.registry import Registry

MANUFACTURER_KEY = "manufacturer"
"""Name of the key made on first run."""
DEVICE_KEY = "this-device"
"""Name of the key that signs this computer's verification events, made on first run."""
DEMO_MATERIALS = (Material.PAPER, Material.PLASTIC, Material.LEATHER, Material.PRINT)
DEMO_TAKES = 3
"""Captures of a demo item tried before it counts as refused: one in about 400 easy
captures has its code unread or motion blur (6 of 2,400 measured), a 1% chance per demo."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Places:
    """Where the app keeps its key, ledger, state and demo captures."""

    keys: Path
    devices: Path
    """Device keys, apart from the manufacturer keys the local ledger trusts."""
    ledger: Path
    state: Path
    demo: Path

    @classmethod
    def default(cls) -> Places:
        """The user's folders (platformdirs, via `app.flows.keys`)."""
        return cls(
            keys=keys.default_key_dir(),
            devices=keys.data_dir() / "device-keys",
            ledger=keys.default_ledger_dir(),
            state=keys.state_dir(),
            demo=keys.data_dir() / "demo",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Workspace:
    """The open local ledger and the manufacturer key that signs enrolments."""

    places: Places
    registry: EmbeddedRegistry
    signer: Signer
    key: keys.KeyFiles
    device: Signer
    """Signs this computer's verification events."""
    policy: TrustPolicy
    first_run: bool
    """Whether the ledger was made by this open."""

    def close(self) -> None:
        """Close the ledger."""
        self.registry.close()


def open_workspace(places: Places) -> Workspace:
    """Open the local ledger, making it and a manufacturer key on first run."""
    first_run = not is_ledger(places.ledger)
    key = _own_key(places.keys, MANUFACTURER_KEY)
    device = _own_key(places.devices, DEVICE_KEY)
    policy = keys.default_registry(places.ledger, places.keys)
    registry = EmbeddedRegistry.open(places.ledger, places.state, policy)
    return Workspace(
        places=places,
        registry=registry,
        signer=keys.load_signer(key.skey_path),
        key=key,
        device=keys.load_signer(device.skey_path),
        policy=policy,
        first_run=first_run,
    )


def _own_key(directory: Path, name: str) -> keys.KeyFiles:
    """The first key in ``directory`` with its private half, made as ``name`` if none."""
    own = [k for k in keys.list_keys(directory) if k.skey_path.exists()]
    return own[0] if own else keys.new_key(name, directory)


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolStep:
    """One item of a batch: enrolled as ``serial``, or refused with ``error``."""

    name: str
    serial: str | None = None
    error: str | None = None


def image_files(folder: Path) -> list[Path]:
    """The image files in ``folder``, sorted by name (as `app.capture.files.ImageFiles`)."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def enrol_each(
    captures: Iterable[tuple[str, ImageInput]],
    *,
    signer: Signer,
    registry: Registry,
    cancel: threading.Event,
) -> Iterator[EnrolStep]:
    """Enrol each named capture (a file or a frame) in turn; a refusal is a step with its
    reason, not an error."""
    for name, image in captures:
        if cancel.is_set():
            return
        yield _enrol_one(name, image, signer, registry)


def demo_items(
    out: Path, *, count: int, signer: Signer, registry: Registry, cancel: threading.Event
) -> Iterator[EnrolStep]:
    """Enrol ``count`` synthetic items, each from up to `DEMO_TAKES` captures; write a new
    genuine capture and a print copy of each to ``out`` for trying out verification."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(secrets.randbits(64))
    first = int(rng.integers(0, 10_000 - count))
    for n in range(count):
        if cancel.is_set():
            return
        item = make_item(rng, DEMO_MATERIALS[n % len(DEMO_MATERIALS)], first + n)
        step = _enrol_demo(item, rng, signer, registry)
        if step.error is None:
            cv2.imwrite(str(out / f"{item.item_id}-genuine.png"), capture(item, rng, Tier.EASY))
            copy = capture(print_copy(item, rng), rng, Tier.EASY)
            cv2.imwrite(str(out / f"{item.item_id}-print-copy.png"), copy)
        yield step


def _enrol_demo(
    item: Item, rng: np.random.Generator, signer: Signer, registry: Registry
) -> EnrolStep:
    """Enrol ``item`` from a new capture, retaking a refused one, as at the line."""
    for _ in range(DEMO_TAKES):
        step = _enrol_one(item.item_id, capture(item, rng, Tier.EASY), signer, registry)
        if step.error is None:
            break
    return step


def _enrol_one(name: str, image: ImageInput, signer: Signer, registry: Registry) -> EnrolStep:
    try:
        done = enrol(image, signer=signer, registry=registry)
    except (ValueError, OSError, FingerprintError, RegistryError) as exc:
        return EnrolStep(name=name, error=str(exc))
    return EnrolStep(name=name, serial=done.proven.record.serial)


@dataclass(frozen=True, slots=True, kw_only=True)
class Inspection:
    """A bundle verified against a trust policy, and the offline registry over it."""

    bundle: Bundle
    registry: BundleRegistry
    trust: str
    """Which policy established trust, for people."""

    @property
    def outbox(self) -> Outbox:
        """Where offline verification events wait to be synced."""
        return self.registry.outbox


def inspect_bundle(path: Path, policy_file: Path | None, workspace: Workspace) -> Inspection:
    """Open the bundle at ``path`` against ``policy_file``, else the local ledger's policy.

    The bundle's own policy is never used: it proves integrity, not trust. Raises what
    `registry_client.bundle.open_bundle` raises (``ExpiredBundleError`` when expired).
    """
    if policy_file is None:
        policy, trust = workspace.policy, "the local ledger's policy"
    else:
        policy, trust = read_policy(policy_file), f"policy file {policy_file.name}"
    bundle = open_bundle(path, policy)
    outbox = Outbox(workspace.places.state / "outbox")
    return Inspection(bundle=bundle, registry=BundleRegistry(bundle, outbox), trust=trust)


def sync_outbox(outbox: Outbox, registry: Registry) -> int:
    """Send the events queued in ``outbox`` to ``registry``; the number sent.

    Each event leaves the outbox only once the registry took it (`Outbox.drain`); if
    sending fails, the rest stay queued and the error propagates.
    """
    return outbox.drain(registry.append_event)
