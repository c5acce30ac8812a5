"""``hallmark selftest`` on a source install: passes on the bundled sample, and fails
loudly, naming the cause, when kernels would run as Python or the sample is wrong."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from numba import njit

from app import selftest
from app.cli import main


def test_selftest_passes_with_every_kernel_compiled(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["selftest"]) == 0
    out = capsys.readouterr().out
    assert "self-test passed" in out
    assert "same item genuine" in out
    for name in selftest.kernels():
        assert name in out
    assert set(selftest.kernels()) >= {"uniform_lbp_codes", "ratio_cross_matches"}


def test_a_kernel_that_is_plain_python_is_named() -> None:
    def plain(x: int) -> int:
        return x

    with pytest.raises(selftest.SelfTestError, match="plain Python: plain$"):
        selftest.check_jit({**selftest.kernels(), "plain": plain})


def test_a_kernel_without_machine_code_is_named() -> None:
    never_called = njit(lambda x: x)
    with pytest.raises(selftest.SelfTestError, match="kernel lazy has no nopython"):
        selftest.kernel_states({"lazy": never_called})


def test_disabled_jit_fails_the_command() -> None:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "selftest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "self-test FAILED" in done.stderr
    assert "NUMBA_DISABLE_JIT" in done.stderr


def test_missing_sample_is_reported(tmp_path: Path) -> None:
    with pytest.raises(selftest.SelfTestError, match="sample captures missing"):
        selftest.run(tmp_path)


def test_a_wrong_verdict_on_the_sample_fails(tmp_path: Path) -> None:
    shutil.copy(selftest.SAMPLE_DIR / selftest.REFERENCE, tmp_path / selftest.REFERENCE)
    for name in (selftest.SAME_ITEM, selftest.COPIED_SERIAL):
        shutil.copy(selftest.SAMPLE_DIR / selftest.COPIED_SERIAL, tmp_path / name)
    with pytest.raises(selftest.SelfTestError, match="came out counterfeit .* want genuine"):
        selftest.run(tmp_path)
