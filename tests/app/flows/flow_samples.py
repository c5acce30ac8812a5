"""Hand-made `LiveAnalysis` values for the pure rules' tests."""

from __future__ import annotations

import numpy as np

from app.flows.live import LiveAnalysis
from fingerprint.quality import QualityIssue, RetakeReason


def seen(serial: str | None, *problems: RetakeReason) -> LiveAnalysis:
    """An analysis of a frame showing ``serial`` (``None``: no code) with ``problems``."""
    box = np.array([[10, 10], [50, 10], [50, 50], [10, 50]], np.float64)
    return LiveAnalysis(
        frame_size=(64, 64),
        window=box,
        code=None if serial is None else box - 5,
        serial=serial,
        gtin=None,
        issues=tuple(QualityIssue(reason=r, value=0.0, threshold=1.0) for r in problems),
    )
