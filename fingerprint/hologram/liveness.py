"""Liveness: does the window change colour with the angle the way a diffractive foil does?

* A **printed copy** shows the colours of one photograph from every angle: nothing in
  it glints, so the optically variable share of the window is small.
* A **photo on a screen** is just as static, and it also carries the screen's pixel
  grid, which the camera aliases into moiré (:mod:`fingerprint.hologram.moire`): static
  colours with some moiré, or strong moiré whatever the colours do (moiré fringes shift
  with the angle and can look like a changing hue), are named a screen.
* **Generic holographic film** passes liveness (it does diffract); identity rejects it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram.maps import HologramMaps
from fingerprint.hologram.params import LivenessParams


class LivenessReason(enum.StrEnum):
    STATIC_COLOURS = "static_colours"
    """No angle-dependent colour: a printed copy (or a flat foil seen without tilting)."""
    SCREEN = "screen"
    """Moiré from a display's pixel grid: a photo or video shown on a screen."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Liveness:
    """The measures and what they say: ``reasons`` is empty for a live hologram.

    ``ovd_share`` is the optically variable share of the window (0–1), ``hue_range`` the
    median hue range inside it (radians, 0 when there is none), ``moire`` the whitened
    spectral peak.
    """

    ovd_share: float
    hue_range: float
    moire: float
    reasons: tuple[LivenessReason, ...]

    @property
    def live(self) -> bool:
        return not self.reasons


def liveness_of(
    ovd_share: float, hue_range: float, moire: float, params: LivenessParams = LivenessParams()
) -> Liveness:
    """Judge the measures against ``params``."""
    static = ovd_share < params.min_ovd_share
    reasons: tuple[LivenessReason, ...]
    if moire > params.max_moire or (static and moire > params.screen_moire):
        reasons = (LivenessReason.SCREEN,)  # a screen's picture is static too: one reason
    elif static:
        reasons = (LivenessReason.STATIC_COLOURS,)
    else:
        reasons = ()
    return Liveness(ovd_share=ovd_share, hue_range=hue_range, moire=moire, reasons=reasons)


def measure_liveness(
    maps: HologramMaps,
    mask: NDArray[np.bool_],
    moire: float,
    params: LivenessParams = LivenessParams(),
) -> Liveness:
    """Liveness of a burst from its maps, its OVD ``mask`` and its moiré score."""
    inner = mask.size if mask.size else 1
    share = float(mask.sum()) / inner
    hue = float(np.median(maps.hue_range[mask])) if mask.any() else 0.0
    return liveness_of(share, hue, moire, params)
