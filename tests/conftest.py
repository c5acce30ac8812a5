"""Root test configuration: offscreen Qt, NumPy that raises on invalid arithmetic, and
cyclic garbage collected between tests on the main thread only (app/ui/ui_thread_gc.py:
the tests run Qt beside server and pool threads in one process, as the app does)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import numpy as np
import pytest

from app.ui.refcounts import pin_singletons
from app.ui.ui_thread_gc import collect_due

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pin_singletons()  # PySide6 6.12.0 on Python 3.11 drops references: app/ui/refcounts.py


def pytest_sessionstart(session: pytest.Session) -> None:
    np.seterr(invalid="raise", divide="raise")
    gc.disable()


@pytest.fixture(autouse=True)
def _collect_on_main_thread() -> Iterator[None]:
    yield
    collect_due()
