"""UI fixtures: isolated user folders and settings, synthetic captures, an open ledger,
and a check that no test leaves the global thread pool busy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings, QThreadPool

from app.flows.enrol import enrol
from app.jobs import Places, Workspace, open_workspace
from fingerprint.synth import Material, Tier, capture, make_item, print_copy

POOL_WAIT_MS = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Captures:
    """Image files of synthetic items: ``enrol`` is registered by `workspace`."""

    enrol: Path
    genuine: Path
    genuine_4mp: Path
    copy: Path
    fresh: tuple[Path, ...]
    """Captures of items nobody enrolled."""


@pytest.fixture(scope="session")
def captures(tmp_path_factory: pytest.TempPathFactory) -> Captures:
    folder = tmp_path_factory.mktemp("captures")
    rng = np.random.default_rng(11)
    item = make_item(rng, Material.PAPER, 41)
    images = {
        "enrol": capture(item, rng, Tier.EASY),
        "genuine": capture(item, rng, Tier.EASY),
        "genuine_4mp": capture(item, rng, Tier.EASY, size=(2304, 1728)),
        "copy": capture(print_copy(item, rng), rng, Tier.EASY),
        "fresh-1": capture(make_item(rng, Material.PLASTIC, 42), rng, Tier.EASY),
        "fresh-2": capture(make_item(rng, Material.LEATHER, 43), rng, Tier.EASY),
    }
    paths = {name: folder / f"{name}.png" for name in images}
    for name, image in images.items():
        assert cv2.imwrite(str(paths[name]), image)
    return Captures(
        enrol=paths["enrol"],
        genuine=paths["genuine"],
        genuine_4mp=paths["genuine_4mp"],
        copy=paths["copy"],
        fresh=(paths["fresh-1"], paths["fresh-2"]),
    )


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """User data, state, config and settings under ``tmp_path``, never the real home."""
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings")
    )
    return tmp_path


@pytest.fixture(autouse=True)
def pool_left_idle() -> Iterator[None]:
    """Fail a test that leaves work running in the global thread pool (napari's habit)."""
    yield
    pool = QThreadPool.globalInstance()
    pool.waitForDone(POOL_WAIT_MS)
    assert pool.activeThreadCount() == 0, "a task was still running after the test"


@pytest.fixture
def places(isolated_home: Path) -> Places:
    return Places.default()


@pytest.fixture
def workspace(places: Places, captures: Captures) -> Iterator[Workspace]:
    """The first-run local ledger and key, with the ``enrol`` capture registered."""
    opened = open_workspace(places)
    enrol(captures.enrol, signer=opened.signer, registry=opened.registry)
    yield opened
    QThreadPool.globalInstance().waitForDone(POOL_WAIT_MS)
    opened.close()
