"""Synthetic hologram evaluation sets: tilt bursts on disk and a ``manifest.csv`` index.

Layout under ``out_dir``::

    manifest.csv
    hologram-0000/enrol/frame-00.jpg …       Tier.EASY burst, for enrolment
    hologram-0000/genuine-00/frame-00.jpg …  bursts of the same item at the chosen tier
    hologram-0000/printed_copy/…             bursts of each attack against the item
    hologram-0000/screen/…                   (``printed_copy-01/``, … after the first)
    hologram-0000/generic_film/…

``manifest.csv`` has the header ``path,item_id,role,target_item``: ``path`` is the
burst's folder relative to ``out_dir``, ``item_id`` names the photographed item and
``target_item`` the genuine item the burst claims to be. Item *k* draws from
``SeedSequence(seed, spawn_key=(k,))``, independent of the other items.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

import numpy as np

from fingerprint.synth.hologram import HologramItem, make_hologram_item
from fingerprint.synth.hologram_attacks import generic_film, printed_copy, screen_replay
from fingerprint.synth.hologram_capture import burst_jpegs
from fingerprint.synth.tiers import Tier

MANIFEST_NAME = "manifest.csv"
MANIFEST_HEADER = ("path", "item_id", "role", "target_item")
ENROL_FRAMES = 24


class HologramRole(StrEnum):
    """What a burst shows, relative to the item it claims to be."""

    ENROL = "enrol"
    GENUINE = "genuine"
    PRINTED_COPY = "printed_copy"
    SCREEN = "screen"
    GENERIC_FILM = "generic_film"


ATTACKS: tuple[
    tuple[HologramRole, Callable[[HologramItem, np.random.Generator], HologramItem]], ...
] = (
    (HologramRole.PRINTED_COPY, printed_copy),
    (HologramRole.SCREEN, screen_replay),
    (HologramRole.GENERIC_FILM, generic_film),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BurstRow:
    """One burst listed in a manifest (see the module docstring)."""

    path: PurePosixPath
    item_id: str
    role: HologramRole
    target_item: str

    def __post_init__(self) -> None:
        if self.path.is_absolute() or not self.path.parts or ".." in self.path.parts:
            raise ValueError(f"path must be relative and inside the dataset, got {self.path}")
        claims_itself = self.role in (HologramRole.ENROL, HologramRole.GENUINE)
        if claims_itself != (self.item_id == self.target_item):
            want = "equal" if claims_itself else "differ"
            raise ValueError(
                f"a {self.role} burst's item_id and target_item must {want}, "
                f"got {self.item_id!r} and {self.target_item!r}"
            )


def read_burst_manifest(path: Path) -> list[BurstRow]:
    """Read and validate a hologram ``manifest.csv``; ``ValueError("file:line: …")`` if bad."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: manifest is not UTF-8 text") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(header) != MANIFEST_HEADER:
        raise ValueError(f"{path}:1: want header {','.join(MANIFEST_HEADER)}, got {header}")
    rows = []
    for fields in reader:
        try:
            if len(fields) != len(MANIFEST_HEADER):
                raise ValueError(f"want {len(MANIFEST_HEADER)} fields, got {len(fields)}")
            folder, item_id, role, target = fields
            if role not in HologramRole.__members__.values():
                raise ValueError(f"unknown role {role!r}")
            rows.append(
                BurstRow(
                    path=PurePosixPath(folder),
                    item_id=item_id,
                    role=HologramRole(role),
                    target_item=target,
                )
            )
        except ValueError as exc:
            raise ValueError(f"{path}:{reader.line_num}: {exc}") from exc
    return rows


def _item_bursts(
    out_dir: Path, index: int, *, bursts: int, attacks: int, frames: int, tier: Tier, seed: int
) -> list[BurstRow]:
    root = np.random.SeedSequence(seed, spawn_key=(index,))
    item_seed, attack_seed, capture_seed = root.spawn(3)
    item = make_hologram_item(np.random.default_rng(item_seed), index)
    shots: list[tuple[str, HologramItem, HologramRole, Tier, int]] = [
        ("enrol", item, HologramRole.ENROL, Tier.EASY, ENROL_FRAMES)
    ]
    shots += [(f"genuine-{k:02d}", item, HologramRole.GENUINE, tier, frames) for k in range(bursts)]
    # the first attack of each kind draws from the kind's seed as it always did
    for (role, attack), child in zip(ATTACKS, attack_seed.spawn(len(ATTACKS)), strict=True):
        seeds = [child, *child.spawn(attacks - 1)] if attacks else []
        for k, grand in enumerate(seeds):
            name = str(role) if k == 0 else f"{role}-{k:02d}"
            shots.append((name, attack(item, np.random.default_rng(grand)), role, tier, frames))
    rows = []
    for (name, subject, role, shot_tier, count), child in zip(
        shots, capture_seed.spawn(len(shots)), strict=True
    ):
        folder = PurePosixPath(item.item_id, name)
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
        jpegs = burst_jpegs(subject, np.random.default_rng(child), frames=count, tier=shot_tier)
        for k, data in enumerate(jpegs):
            (out_dir / folder / f"frame-{k:02d}.jpg").write_bytes(data)
        rows.append(
            BurstRow(path=folder, item_id=subject.item_id, role=role, target_item=item.item_id)
        )
    return rows


def write_hologram_dataset(
    out_dir: Path,
    *,
    items: int,
    bursts_per_item: int,
    attacks_per_item: int = 1,
    frames: int = 16,
    tier: Tier = Tier.MEDIUM,
    seed: int = 1,
    workers: int = 2,
) -> Path:
    """Write ``items`` hologram items' bursts under ``out_dir``; return the manifest's path.

    Each item gets an EASY enrolment burst of 24 frames, ``bursts_per_item`` genuine
    bursts and ``attacks_per_item`` bursts of each attack, of ``frames`` frames at ``tier``.
    """
    if (
        items < 1
        or bursts_per_item < 0
        or attacks_per_item < 0
        or not 1 <= frames <= 60
        or workers < 1
    ):
        raise ValueError(
            f"want items ≥ 1, bursts_per_item ≥ 0, attacks_per_item ≥ 0, 1 ≤ frames ≤ 60, "
            f"workers ≥ 1, got {items}, {bursts_per_item}, {attacks_per_item}, {frames}, {workers}"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        per_item = pool.map(
            lambda k: _item_bursts(
                out_dir,
                k,
                bursts=bursts_per_item,
                attacks=attacks_per_item,
                frames=frames,
                tier=tier,
                seed=seed,
            ),
            range(items),
        )
        rows = [row for item_rows in per_item for row in item_rows]
    manifest = out_dir / MANIFEST_NAME
    with manifest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_HEADER)
        for row in rows:
            writer.writerow([str(row.path), row.item_id, row.role, row.target_item])
    return manifest
