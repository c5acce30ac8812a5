"""Synthetic evaluation datasets: JPEG captures on disk and a ``manifest.csv`` index.

Layout under ``out_dir``::

    manifest.csv
    paper/paper-0000/enrol.jpg             Tier.EASY capture, for enrolment
    paper/paper-0000/genuine-00.jpg …      captures of the same item at the chosen tier
    paper/paper-0000/copied_serial.jpg     one capture of each attack against the item
    paper/paper-0000/print_copy.jpg
    paper/paper-0000/print_copy-01.jpg …   further print copies, if asked for (each a new copy)
    paper/paper-0000/twin.jpg

``manifest.csv`` has the header ``path,item_id,material,role,target_item,tier``; ``path``
is relative to ``out_dir`` with forward slashes, ``item_id`` names the photographed item
and ``target_item`` the genuine item the capture claims to be.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

import numpy as np

from fingerprint.synth.attacks import copied_serial, print_copy, twin
from fingerprint.synth.capture import capture_jpeg
from fingerprint.synth.items import Item, make_item
from fingerprint.synth.materials import Material
from fingerprint.synth.tiers import Tier

MANIFEST_NAME = "manifest.csv"
MANIFEST_HEADER = ("path", "item_id", "material", "role", "target_item", "tier")


class Role(StrEnum):
    """What a capture shows, relative to the item it claims to be."""

    ENROL = "enrol"
    GENUINE = "genuine"
    COPIED_SERIAL = "copied_serial"
    PRINT_COPY = "print_copy"
    TWIN = "twin"


_ATTACKS: tuple[tuple[Role, Callable[[Item, np.random.Generator], Item]], ...] = (
    (Role.COPIED_SERIAL, copied_serial),
    (Role.PRINT_COPY, print_copy),
    (Role.TWIN, twin),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestRow:
    """One capture listed in a manifest (see the module docstring for the fields)."""

    path: PurePosixPath
    item_id: str
    material: Material
    role: Role
    target_item: str
    tier: Tier

    def __post_init__(self) -> None:
        if self.path.is_absolute() or not self.path.parts or ".." in self.path.parts:
            raise ValueError(f"path must be relative and inside the dataset, got {self.path}")
        if not self.item_id or not self.target_item:
            raise ValueError("item_id and target_item must not be empty")
        for name, text in (
            ("path", str(self.path)),
            ("item_id", self.item_id),
            ("target_item", self.target_item),
        ):
            if any(unicodedata.category(char) == "Cc" for char in text):
                raise ValueError(f"{name} must not contain control characters, got {text!r}")
        claims_itself = self.role in (Role.ENROL, Role.GENUINE)
        if claims_itself != (self.item_id == self.target_item):
            want = "equal" if claims_itself else "differ"
            raise ValueError(
                f"a {self.role} capture's item_id and target_item must {want}, "
                f"got {self.item_id!r} and {self.target_item!r}"
            )


def _parse_row(fields: list[str]) -> ManifestRow:
    if len(fields) != len(MANIFEST_HEADER):
        raise ValueError(f"want {len(MANIFEST_HEADER)} fields, got {len(fields)}")
    path, item_id, material, role, target_item, tier = fields
    for name, value, kind in (
        ("material", material, Material),
        ("role", role, Role),
        ("tier", tier, Tier),
    ):
        if value not in kind.__members__.values():
            allowed = ", ".join(kind.__members__.values())
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return ManifestRow(
        path=PurePosixPath(path),
        item_id=item_id,
        material=Material(material),
        role=Role(role),
        target_item=target_item,
        tier=Tier(tier),
    )


def read_manifest(path: Path) -> list[ManifestRow]:
    """Read and validate a ``manifest.csv``.

    Raises
    ------
    ValueError
        Naming the file and line: not UTF-8 text, a wrong header, a row with the wrong
        number of fields, an unknown material, role or tier, an absolute or escaping
        path, a path listed twice, or an ``item_id``/``target_item`` pair that
        contradicts the role.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: manifest is not UTF-8 text") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[ManifestRow] = []
    seen: set[PurePosixPath] = set()
    try:
        header = next(reader, None)
        if header is None or tuple(header) != MANIFEST_HEADER:
            raise ValueError(f"{path}:1: want header {','.join(MANIFEST_HEADER)}, got {header}")
        for fields in reader:
            try:
                row = _parse_row(fields)
                if row.path in seen:
                    raise ValueError(f"{row.path} is listed twice")
            except ValueError as exc:
                raise ValueError(f"{path}:{reader.line_num}: {exc}") from exc
            seen.add(row.path)
            rows.append(row)
    except csv.Error as exc:
        raise ValueError(f"{path}:{reader.line_num}: {exc}") from exc
    return rows


def write_manifest(path: Path, rows: Iterable[ManifestRow]) -> None:
    """Write ``rows`` to ``path`` as a manifest :func:`read_manifest` reads back."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(MANIFEST_HEADER)
        for row in rows:
            writer.writerow(
                [str(row.path), row.item_id, row.material, row.role, row.target_item, row.tier]
            )


def _item_dataset(
    out_dir: Path,
    material: Material,
    index: int,
    *,
    captures_per_item: int,
    print_copies_per_item: int,
    tier: Tier,
    seed: int,
) -> list[ManifestRow]:
    """Generate, write and list every capture of one genuine item and its attacks.

    Each item draws from its own ``SeedSequence(seed, spawn_key=(material's ordinal,
    index))``, so it does not depend on which other items or materials are generated.
    Print copies beyond the first draw from a fourth child of that sequence, so asking
    for more of them leaves every other file byte for byte as it was.
    """
    root = np.random.SeedSequence(seed, spawn_key=(list(Material).index(material), index))
    item_seed, attack_seed, capture_seed = root.spawn(3)
    (extra_seed,) = root.spawn(1)
    item = make_item(np.random.default_rng(item_seed), material, index)
    folder = PurePosixPath(str(material), item.item_id)
    (out_dir / folder).mkdir(parents=True, exist_ok=True)
    shots: list[tuple[str, Item, Role, Tier]] = [("enrol", item, Role.ENROL, Tier.EASY)]
    shots += [(f"genuine-{k:02d}", item, Role.GENUINE, tier) for k in range(captures_per_item)]
    for (role, attack), child in zip(_ATTACKS, attack_seed.spawn(len(_ATTACKS)), strict=True):
        shots.append((str(role), attack(item, np.random.default_rng(child)), role, tier))
    capture_seeds = capture_seed.spawn(len(shots))
    for k, child in enumerate(extra_seed.spawn(print_copies_per_item - 1), start=1):
        copy_seed, shot_seed = child.spawn(2)
        copy = print_copy(item, np.random.default_rng(copy_seed))
        name = f"{Role.PRINT_COPY}-{k:02d}"
        copy = dataclasses.replace(copy, item_id=f"{item.item_id}~{name}")
        shots.append((name, copy, Role.PRINT_COPY, tier))
        capture_seeds.append(shot_seed)
    rows = []
    for (name, subject, role, shot_tier), child in zip(shots, capture_seeds, strict=True):
        path = folder / f"{name}.jpg"
        (out_dir / path).write_bytes(capture_jpeg(subject, np.random.default_rng(child), shot_tier))
        rows.append(
            ManifestRow(
                path=path,
                item_id=subject.item_id,
                material=material,
                role=role,
                target_item=item.item_id,
                tier=shot_tier,
            )
        )
    return rows


def write_dataset(
    out_dir: Path,
    *,
    items_per_material: int,
    captures_per_item: int,
    tier: Tier,
    seed: int,
    print_copies_per_item: int = 1,
    materials: Sequence[Material] = tuple(Material),
    workers: int = 2,
) -> Path:
    """Generate a synthetic dataset under ``out_dir`` and return its manifest's path.

    Parameters
    ----------
    out_dir : Path
        Created if missing; existing files of the same names are overwritten.
    items_per_material : int
        Genuine items per material (serials 0 … n − 1).
    captures_per_item : int
        Genuine captures per item at ``tier``, besides its Tier.EASY enrolment capture
        and one capture of each attack (at ``tier``).
    tier : Tier
        Difficulty of every capture except enrolment.
    print_copies_per_item : int
        Print copies per item, each a new photograph, printer and capture; the first is
        ``print_copy.jpg``, the others ``print_copy-01.jpg`` …. Many copies over few
        items measure a small print-copy acceptance without the cost of the other-item
        pairs, which grows with the square of the item count.
    seed : int
        The whole dataset is a deterministic function of the seed and the counts.
    materials : sequence of Material
        Which materials, each at most once.
    workers : int
        Items generated in parallel (threads; OpenCV and NumPy release the GIL).

    Returns
    -------
    Path
        ``out_dir / "manifest.csv"``.
    """
    if items_per_material < 1 or captures_per_item < 0 or print_copies_per_item < 1 or workers < 1:
        raise ValueError(
            "want items_per_material ≥ 1, captures_per_item ≥ 0, print_copies_per_item ≥ 1, "
            f"workers ≥ 1, got {items_per_material}, {captures_per_item}, "
            f"{print_copies_per_item}, {workers}"
        )
    if not materials or len(set(materials)) != len(materials):
        raise ValueError(f"want a non-empty list of distinct materials, got {list(materials)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(material, index) for material in materials for index in range(items_per_material)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        per_item = pool.map(
            lambda job: _item_dataset(
                out_dir,
                job[0],
                job[1],
                captures_per_item=captures_per_item,
                print_copies_per_item=print_copies_per_item,
                tier=tier,
                seed=seed,
            ),
            jobs,
        )
        rows = [row for item_rows in per_item for row in item_rows]
    manifest = out_dir / MANIFEST_NAME
    write_manifest(manifest, rows)
    return manifest
