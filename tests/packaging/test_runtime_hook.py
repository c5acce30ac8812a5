"""The frozen app's runtime hook (``packaging/pyi_rth_hallmark.py``): Numba's cache goes
to Hallmark's per-user cache folder, set before anything imports Numba."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path

import platformdirs
import pytest

import app
from app.settings import APPLICATION

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "packaging" / "pyi_rth_hallmark.py"


def test_hook_sets_the_per_user_numba_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    runpy.run_path(str(HOOK))
    want = platformdirs.user_cache_path(APPLICATION) / "numba"
    assert Path(os.environ["NUMBA_CACHE_DIR"]) == want
    assert want.is_relative_to(tmp_path)


def test_hook_keeps_a_cache_folder_already_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    runpy.run_path(str(HOOK))
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_hook_runs_before_numba_and_without_it() -> None:
    code = f"import runpy, sys; runpy.run_path({str(HOOK)!r}); print('numba' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_version_comes_from_pyproject() -> None:
    with (ROOT / "pyproject.toml").open("rb") as f:
        assert app.__version__ == tomllib.load(f)["project"]["version"]
