"""Synthetic hologram datasets: the manifest lists every burst, attacks as many as asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from fingerprint.synth.hologram_dataset import (
    HologramRole,
    read_burst_manifest,
    write_hologram_dataset,
)


def test_several_bursts_of_each_attack(tmp_path: Path) -> None:
    manifest = write_hologram_dataset(
        tmp_path, items=1, bursts_per_item=1, attacks_per_item=2, frames=1, workers=1
    )
    rows = read_burst_manifest(manifest)
    names = [str(r.path) for r in rows]
    assert names[:2] == ["hologram-0000/enrol", "hologram-0000/genuine-00"]
    assert names[2:4] == ["hologram-0000/printed_copy", "hologram-0000/printed_copy-01"]
    assert [r.role for r in rows].count(HologramRole.GENERIC_FILM) == 2
    assert all(r.target_item == "hologram-0000" for r in rows)
    assert len(list((tmp_path / "hologram-0000" / "screen-01").iterdir())) == 1


def test_bad_counts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="attacks_per_item ≥ 0"):
        write_hologram_dataset(tmp_path, items=1, bursts_per_item=1, attacks_per_item=-1)
