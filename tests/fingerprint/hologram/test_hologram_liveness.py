"""Liveness reasons from the measures: one reason per kind of attack."""

from __future__ import annotations

import pytest

from fingerprint.hologram import LivenessReason
from fingerprint.hologram.liveness import liveness_of
from fingerprint.hologram.params import LivenessParams

P = LivenessParams()


@pytest.mark.parametrize(
    ("share", "moire", "reasons"),
    [
        (0.5, 6.0, ()),  # a diffractive foil: live (genuine or generic film)
        (0.5, P.screen_moire + 1, ()),  # moiré alone is not enough while colours change
        (0.0, 6.0, (LivenessReason.STATIC_COLOURS,)),  # a printed copy
        (0.0, P.screen_moire + 1, (LivenessReason.SCREEN,)),  # static with moiré: a screen
        (0.5, P.max_moire + 1, (LivenessReason.SCREEN,)),  # fringes shifting like a hologram
    ],
)
def test_reasons(share: float, moire: float, reasons: tuple[LivenessReason, ...]) -> None:
    live = liveness_of(share, 1.0, moire)
    assert live.reasons == reasons
    assert live.live == (not reasons)
