"""Root test configuration: offscreen Qt, NumPy that raises on invalid arithmetic."""

from __future__ import annotations

import os

import numpy as np
import pytest

from app.ui.refcounts import pin_singletons

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pin_singletons()  # PySide6 6.12.0 on Python 3.11 drops references: app/ui/refcounts.py


def pytest_sessionstart(session: pytest.Session) -> None:
    np.seterr(invalid="raise", divide="raise")
