"""``hallmark identify`` end to end: enrol synthetic items on a ledger, then find them by
their surface, from the ledger folder and from an offline bundle."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.cli import main
from fingerprint.gs1 import parse
from fingerprint.identify import Index
from fingerprint.synth import Item, Material, Tier, capture, copied_serial, make_item

ITEMS = 4


def _main(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def _item_id(item: Item) -> str:
    code = parse(item.gs1)
    return f"(01){code.gtin}(21){code.serial}"


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Item], dict[str, Path]]:
    """Items of two materials; an enrolment capture of each, a new capture of items 0
    and 3, another surface carrying item 0's serial, and a fifth item enrolled late."""
    folder = tmp_path_factory.mktemp("identify")
    rng = np.random.default_rng(5)
    materials = (Material.PAPER, Material.PLASTIC)
    items = [make_item(rng, materials[i % 2], i) for i in range(ITEMS + 1)]
    frames = {f"enrol-{i}": capture(item, rng, Tier.EASY) for i, item in enumerate(items)}
    frames["probe-0"] = capture(items[0], rng, Tier.EASY)
    frames["probe-3"] = capture(items[3], rng, Tier.EASY)
    frames["copy-0"] = capture(copied_serial(items[0], rng), rng, Tier.EASY)
    frames["probe-late"] = capture(items[ITEMS], rng, Tier.EASY)
    paths = {}
    for name, frame in frames.items():
        paths[name] = folder / f"{name}.png"
        cv2.imwrite(str(paths[name]), frame)
    return items, paths


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path


def _indexed(text: str) -> int:
    found = re.search(r"(\d+) items indexed", text)
    assert found is not None, text
    return int(found.group(1))


def test_identify_from_ledger_and_bundle(
    home: Path,
    scene: tuple[list[Item], dict[str, Path]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    items, images = scene
    keys, ledger, index = home / "keys", home / "ledger", home / "ledger.hmix"
    assert _main("keys", "new", "acme.example", "--dir", keys) == 0
    assert _main("registry", "init", ledger, "--trust", keys / "acme.example.vkey") == 0
    for i in range(ITEMS):
        assert _main("enrol", images[f"enrol-{i}"], "--key", keys / "acme.example.skey",
                     "--registry", ledger) == 0  # fmt: skip
    capsys.readouterr()

    assert _main("identify", images["probe-3"], "--registry", ledger, "--index", index) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"IDENTIFIED: {_item_id(items[3])}")
    assert _indexed(text) == ITEMS and "located by its code" in text
    assert len(Index.load(index)) == ITEMS

    # Another surface with item 0's serial is not item 0, whatever its code says.
    status = _main("identify", images["copy-0"], "--registry", ledger, "--index", index)
    assert status in (4, 5)
    assert f"IDENTIFIED: {_item_id(items[0])}" not in capsys.readouterr().out

    # An item enrolled later is added to the saved index, not rebuilt from scratch.
    assert _main("enrol", images[f"enrol-{ITEMS}"], "--key", keys / "acme.example.skey",
                 "--registry", ledger) == 0  # fmt: skip
    capsys.readouterr()
    assert _main("identify", images["probe-late"], "--registry", ledger, "--index", index) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"IDENTIFIED: {_item_id(items[ITEMS])}")
    assert _indexed(text) == ITEMS + 1

    # A corrupt index file is a cache: rebuilt from the registry.
    data = bytearray(index.read_bytes())
    data[40] ^= 0xFF
    index.write_bytes(bytes(data))
    assert _main("identify", images["probe-0"], "--registry", ledger, "--index", index) == 0
    assert capsys.readouterr().out.startswith(f"IDENTIFIED: {_item_id(items[0])}")

    wanted = home / "items.txt"
    wanted.write_text("".join(_item_id(item) + "\n" for item in items[:2]))
    bundle = home / "b.hmb"
    assert _main("bundle", "export", "--ledger", ledger, "--out", bundle, "--items", wanted,
                 "--key", ledger / "log.skey", "--expires-days", "7",
                 "--policy", ledger / "policy") == 0  # fmt: skip
    capsys.readouterr()
    policy = ("--policy", ledger / "policy")
    assert _main("identify", images["probe-0"], "--registry", bundle, *policy) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"IDENTIFIED: {_item_id(items[0])}") and _indexed(text) == 2
    # Item 3 is registered but not in the bundle: not found there.
    assert _main("identify", images["probe-3"], "--registry", bundle, *policy) == 5


def test_identify_bad_input(home: Path, scene: tuple[list[Item], dict[str, Path]]) -> None:
    _, images = scene
    assert _main("identify", images["probe-0"], "--registry", home / "missing") == 2
    assert _main("identify", images["probe-0"], "--registry", "http://127.0.0.1:9") == 2
    assert _main("identify", home / "none.png", "--registry", home, "-k", "0") == 2
