"""``hallmark holo``: extract a template from a burst folder, match bursts against it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.cli import main
from fingerprint.hologram import HologramTemplate
from fingerprint.synth import Tier
from fingerprint.synth.hologram import make_hologram_item
from fingerprint.synth.hologram_attacks import printed_copy
from fingerprint.synth.hologram_capture import burst


def write_burst(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir()
    for k, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"frame-{k:02d}.png"), frame)
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("holo")
    rng = np.random.default_rng(11)
    item = make_hologram_item(rng, 3)

    def shoot(subject, tier: Tier = Tier.MEDIUM) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
        return burst(subject, rng, frames=12, tier=tier, size=(480, 360))

    return {
        "enrol": write_burst(root / "enrol", shoot(item, Tier.EASY)),
        "genuine": write_burst(root / "genuine", shoot(item)),
        "printed": write_burst(root / "printed", shoot(printed_copy(item, rng))),
    }


def test_extract_writes_a_template_and_prints_its_hash(
    folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "item.hmh"
    assert main(["holo", "extract", str(folders["enrol"]), "-o", str(out)]) == 0
    template = HologramTemplate.from_bytes(out.read_bytes())
    printed = capsys.readouterr().out
    assert template.digest() in printed
    assert "12 frames registered" in printed


def test_match_exits_by_decision(
    folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "item.hmh"
    assert main(["holo", "extract", str(folders["enrol"]), "-o", str(out)]) == 0
    capsys.readouterr()
    status = main(["holo", "match", str(out), str(folders["genuine"])])
    decision = capsys.readouterr().out.split()[0]
    assert (decision, status) in (("GENUINE", 0), ("RETAKE", 4))  # never COUNTERFEIT
    assert main(["holo", "match", str(out), str(folders["printed"])]) == 3
    assert "reason: static_colours" in capsys.readouterr().out


def test_bad_input_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    few = write_burst(tmp_path / "few", [np.zeros((240, 320, 3), np.uint8)] * 3)
    assert main(["holo", "extract", str(few), "-o", str(tmp_path / "x.hmh")]) == 2
    assert "at least 10 frames, got 3" in capsys.readouterr().err
    (tmp_path / "junk.hmh").write_bytes(b"junk")
    assert main(["holo", "match", str(tmp_path / "junk.hmh"), str(few)]) == 2
    assert "not a Hallmark hologram template" in capsys.readouterr().err
