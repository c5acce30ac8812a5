"""The ledger commands end to end on synthetic items and a ledger folder."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.cli import main
from app.flows import keys
from fingerprint.gs1 import parse
from fingerprint.synth import Material, Tier, capture, copied_serial, make_item
from registry_client.note import KeyType

Run = Callable[..., int]


def _main(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def _serial(index: int) -> str:
    """The serial printed on synthetic paper item ``index`` (it does not depend on the rng)."""
    return parse(make_item(np.random.default_rng(0), Material.PAPER, index).gs1).serial


FIRST, SECOND = _serial(1), _serial(2)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two enrolment captures, a new capture of item 1, and a copy of item 1's serial."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(3)
    first, second = make_item(rng, Material.PAPER, 1), make_item(rng, Material.PAPER, 2)
    frames = {
        "first": capture(first, rng, Tier.EASY),
        "second": capture(second, rng, Tier.EASY),
        "first-again": capture(first, rng, Tier.EASY),
        "copied-serial": capture(copied_serial(first, rng), rng, Tier.EASY),
    }
    paths = {}
    for name, frame in frames.items():
        paths[name] = folder / f"{name}.png"
        cv2.imwrite(str(paths[name]), frame)
    return paths


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


def test_keys_enrol_verify_and_audit(
    home: Path, images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    keys, ledger = home / "keys", home / "ledger"
    assert _main("keys", "new", "acme.example", "--dir", keys) == 0
    assert stat.S_IMODE((keys / "acme.example.skey").stat().st_mode) == 0o600
    assert _main("keys", "new", "acme.example", "--dir", keys) == 2  # never overwritten
    assert _main("registry", "init", ledger, "--trust", keys / "acme.example.vkey") == 0
    skey = keys / "acme.example.skey"
    for name, serial in (("first", FIRST), ("second", SECOND)):
        assert _main("enrol", images[name], "--serial", serial, "--key", skey,
                     "--registry", ledger) == 0  # fmt: skip
    assert "template sha256" in capsys.readouterr().out
    assert _main("enrol", images["first"], "--serial", SECOND, "--key", skey,
                 "--registry", ledger) == 2  # fmt: skip
    assert _main("verify", images["first-again"], "--registry", ledger) == 0
    assert "GENUINE" in capsys.readouterr().out
    assert _main("verify", images["copied-serial"], "--registry", ledger) in (3, 4)
    claimed = _main("verify", images["second"], "--registry", ledger, "--serial", FIRST)
    assert claimed in (3, 4)
    assert _main("verify", images["second"], "--registry", ledger, "--serial", "SN9") == 5
    assert _main("log", "verify", ledger) == 0

    first_gtin = parse(make_item(np.random.default_rng(0), Material.PAPER, 1).gs1).gtin
    assert _main("revoke", f"(01){first_gtin}(21){FIRST}", "--key", skey, "--reason", "stolen",
                 "--registry", ledger) == 0  # fmt: skip
    assert "withdrew" in capsys.readouterr().out
    assert _main("verify", images["first-again"], "--registry", ledger) == 3  # withdrawn
    assert _main("revoke", "SN1", "--key", skey, "--reason", "x", "--registry", ledger) == 2
    assert _main("keys", "new", "acme.next", "--dir", keys) == 0
    assert _main("keys", "rotate", "--key", skey, "--new", keys / "acme.next.vkey",
                 "--registry", ledger) == 0  # fmt: skip
    assert _main("keys", "revoke", "--key", skey, "--registry", ledger) == 0
    assert _main("verify", images["second"], "--registry", ledger) == 6  # key revoked

    tile = ledger / "tile" / "0" / "000.p" / "2"
    data = bytearray(tile.read_bytes())
    data[7] ^= 1
    tile.write_bytes(bytes(data))
    assert _main("log", "verify", ledger) != 0
    assert "verification failed" in capsys.readouterr().err


def test_default_registry_trusts_the_default_keys(home: Path, images: dict[str, Path]) -> None:
    assert _main("keys", "new", "maker") == 0
    skey = home / "data" / "hallmark" / "keys" / "maker.skey"
    assert _main("enrol", images["first"], "--serial", FIRST, "--key", skey) == 0
    assert _main("verify", images["first-again"], "--device-key", skey) == 0


def test_bad_input_fails_cleanly(home: Path, images: dict[str, Path]) -> None:
    assert _main("verify", images["first"], "--registry", home / "missing") == 2
    assert _main("verify", images["first"], "--registry", "http://127.0.0.1:9") == 2
    assert _main("enrol", images["first"], "--serial", "S", "--key", home / "nokey") == 2


def test_witness_key_is_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "witness.skey"
    key = keys.witness_key(path, "witness.example")
    assert key.key_type is KeyType.COSIGNATURE_V1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.witness_key(path, "witness.example") == key
    with pytest.raises(keys.KeyFileError, match="holds witness"):
        keys.witness_key(path, "another.example")
