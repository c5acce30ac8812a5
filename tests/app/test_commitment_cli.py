"""``hallmark commit enrol`` and ``commit verify`` on a ledger folder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.cli import main
from fingerprint.synth import Material, Tier, capture, make_item


def _main(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def test_commit_enrol_then_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # keys and checkpoints seen
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    rng = np.random.default_rng(8)  # the item of tests/fingerprint/commitment/conftest.py
    item, other = make_item(rng, Material.PHOTO, 0), make_item(rng, Material.PHOTO, 1)
    names = ("enrol-1", "enrol-2", "again", "other")
    subjects = (item, item, item, other)
    paths = {}
    for name, subject in zip(names, subjects, strict=True):
        paths[name] = tmp_path / f"{name}.png"
        cv2.imwrite(str(paths[name]), capture(subject, rng, Tier.EASY))
    keys, ledger = tmp_path / "keys", tmp_path / "ledger"
    assert _main("keys", "new", "acme.example", "--dir", keys) == 0
    assert _main("registry", "init", ledger, "--trust", keys / "acme.example.vkey") == 0
    capsys.readouterr()

    skey = keys / "acme.example.skey"
    assert _main("commit", "enrol", paths["enrol-1"], paths["enrol-2"], "--key", skey,
                 "--registry", ledger) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "commitment sha256" in out and "1392 bits from 2 captures" in out
    assert _main("commit", "verify", paths["again"], "--registry", ledger) == 0
    commit_out = capsys.readouterr().out
    assert "commitment opened" in commit_out
    assert _main("verify", paths["again"], "--registry", ledger) == 0  # the general command
    assert capsys.readouterr().out == commit_out  # one printer: the commitment's opening too
    assert "bits corrected" in commit_out and "registered by" in commit_out
    assert "print-copy check +" in commit_out  # the genuine capture's log-odds
    assert _main("commit", "verify", paths["other"], "--registry", ledger) == 5
    assert _main("commit", "eval", tmp_path, "--enrol", "1,x") == 2
    assert "--enrol wants counts" in capsys.readouterr().err
