"""Which tilt directions a burst has seen, and which are still missing.

The direction from the window to the camera, in the label's own frame (x along the
code's top edge, y down its left edge), is what a hologram's colours answer to. Its
tangential part is binned into equal sectors of the circle; a sector is covered once a
frame views the window at least ``min_tilt_deg`` off its normal in that direction. An
app shows the covered share as a progress ring and asks for the missing directions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram.params import CoverageParams, RegistrationParams
from fingerprint.hologram.register import Frame, register
from fingerprint.region import RegionSpec

_COMPASS = (
    "right",
    "lower right",
    "bottom",
    "lower left",
    "left",
    "upper left",
    "top",
    "upper right",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TiltCoverage:
    """Sectors of the tilt circle a burst has seen.

    ``sectors[k]`` covers the directions ``(k ± ½)·360°/len(sectors)``, 0° pointing
    along the code's top edge (the label's right) and 90° down its left edge; ``needed``
    sectors make a complete burst; ``max_tilt_deg`` is the steepest view seen.
    """

    sectors: tuple[bool, ...]
    needed: int
    max_tilt_deg: float

    @property
    def covered(self) -> int:
        return sum(self.sectors)

    @property
    def complete(self) -> bool:
        return self.covered >= self.needed

    @property
    def progress(self) -> float:
        """Share of the needed sectors seen, 0–1 (a progress ring)."""
        return min(1.0, self.covered / self.needed)

    @property
    def missing(self) -> tuple[str, ...]:
        """Directions still to tilt towards, named as seen on the label ("upper left", …)."""
        count = len(self.sectors)
        return tuple(
            _COMPASS[round(k * 8 / count) % 8] if count == 8 else f"{k * 360 // count}°"
            for k, seen in enumerate(self.sectors)
            if not seen
        )


def coverage_of(
    tilts: NDArray[np.float64], params: CoverageParams = CoverageParams()
) -> TiltCoverage:
    """Coverage of frames whose view directions have tangential parts ``tilts`` (N, 2)."""
    tilts = np.asarray(tilts, np.float64).reshape(-1, 2)
    sine = np.linalg.norm(tilts, axis=1)
    steep = sine >= np.sin(np.deg2rad(params.min_tilt_deg))
    angle = np.arctan2(tilts[steep, 1], tilts[steep, 0])
    width = 2 * np.pi / params.sectors
    bins = np.floor(np.mod(angle + width / 2, 2 * np.pi) / width).astype(int) % params.sectors
    seen = np.zeros(params.sectors, bool)
    seen[bins] = True
    return TiltCoverage(
        sectors=tuple(bool(s) for s in seen),
        needed=params.min_sectors,
        max_tilt_deg=float(np.rad2deg(np.arcsin(np.clip(sine.max(initial=0.0), 0, 1)))),
    )


def tilt_coverage(
    frames: Sequence[Frame],
    region: RegionSpec = RegionSpec(),
    params: CoverageParams = CoverageParams(),
    registration: RegistrationParams = RegistrationParams(),
) -> TiltCoverage:
    """Coverage of the frames seen so far (BGR uint8, one size; any number ≥ 1).

    Nothing is covered while the item's code has not been found.
    """
    return coverage_of(register(frames, region, registration).tilts, params)
