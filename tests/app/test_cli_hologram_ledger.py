"""``hallmark enrol/verify --hologram BURST`` end to end on a ledger folder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.cli import main
from fingerprint.synth import Material, Tier, capture
from fingerprint.synth.hologram import HologramItem, make_hologram_item
from fingerprint.synth.hologram_attacks import printed_copy
from fingerprint.synth.hologram_capture import burst_jpegs
from fingerprint.synth.items import build_item


def _main(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Stills of two labels (one with a hologram), enrolment, genuine and copied bursts."""
    folder = tmp_path_factory.mktemp("holo")
    rng = np.random.default_rng(55)
    holo = make_hologram_item(rng, 3)
    label = build_item(rng, material=Material.PAPER, gs1=holo.gs1, item_id="label")
    plain = build_item(
        rng, material=Material.PAPER, gs1=make_hologram_item(rng, 4).gs1, item_id="p"
    )
    paths = {}
    for name, item in (("image", label), ("again", label), ("plain", plain)):
        paths[name] = folder / f"{name}.png"
        cv2.imwrite(str(paths[name]), capture(item, rng, Tier.EASY))

    def shoot(name: str, subject: HologramItem) -> None:
        paths[name] = folder / name
        paths[name].mkdir()
        for k, data in enumerate(
            burst_jpegs(subject, rng, frames=12, tier=Tier.EASY, size=(480, 360))
        ):
            (paths[name] / f"frame-{k:02d}.jpg").write_bytes(data)

    shoot("enrol", holo)
    shoot("genuine", holo)
    shoot("printed", printed_copy(holo, rng))
    return paths


def test_enrol_and_verify_with_a_hologram(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    keys, ledger = tmp_path / "keys", tmp_path / "ledger"
    assert _main("keys", "new", "acme.example", "--dir", keys) == 0
    assert _main("registry", "init", ledger, "--trust", keys / "acme.example.vkey") == 0
    skey = keys / "acme.example.skey"
    assert _main("enrol", files["image"], "--hologram", files["enrol"], "--key", skey,
                 "--registry", ledger) == 0  # fmt: skip
    assert "hologram template sha256" in capsys.readouterr().out
    assert _main("verify", files["again"], "--hologram", files["genuine"],
                 "--registry", ledger) == 0  # fmt: skip
    assert "hologram genuine" in capsys.readouterr().out
    assert _main("verify", files["again"], "--hologram", files["printed"],
                 "--registry", ledger) == 3  # fmt: skip
    assert "hologram counterfeit" in capsys.readouterr().out
    assert _main("enrol", files["plain"], "--key", skey, "--registry", ledger) == 0
    capsys.readouterr()
    assert _main("verify", files["plain"], "--hologram", files["genuine"],
                 "--registry", ledger) == 2  # fmt: skip
    assert "enrolled without a hologram" in capsys.readouterr().err
