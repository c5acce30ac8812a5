"""Root test configuration: offscreen Qt, NumPy that raises on invalid arithmetic."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_sessionstart(session: pytest.Session) -> None:
    np.seterr(invalid="raise", divide="raise")
