"""The one enrolment statistic a commitment stores besides the code: the texture level.

How strong an item's texture is in the coarse part of the code's band, relative to its
printed code's contrast in the same capture: ln(RMS of the window's band-passed values /
grey levels between the code's light and dark modules). It tells the print-copy check
(`fingerprint.commitment.copy_evidence`) how often camera noise alone flips a genuine
capture's signs there (faint paper more than leather), and, read from the enrolment,
cannot be moved by a copier. A power spectrum averaged over a band says nothing about
the signs the code is made of (the phases); what it does reveal about the item is
measured in docs/commitment.md. Stored as one byte, in steps of `LEVEL_STEP`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from fingerprint.commitment.code import band_bins
from fingerprint.commitment.params import PATCH_SIZE, CopyParams

LEVEL_STEP = 1 / 32
"""Quantum of the stored level (natural-log units; a capture's own scatter is ~0.2)."""
LEVEL_CODES = 256
"""The stored level is a byte: ``−code · LEVEL_STEP`` for ``code`` in 0..255."""


def texture_level(
    patch: NDArray[np.uint8], contrast: float, copy: CopyParams = CopyParams()
) -> float:
    """ln(RMS of the window (S, S) uint8 at ``copy.coarse_px`` / ``contrast``), unquantised.

    ``contrast`` is the code's light-minus-dark grey levels in the same capture
    (`frame.Framed.contrast`). Raises ``ValueError`` for a contrast that is not positive
    or a window without texture in the band.
    """
    if not contrast > 0:
        raise ValueError(f"want the code's contrast > 0 grey levels, got {contrast}")
    if patch.dtype != np.uint8 or patch.shape != (PATCH_SIZE, PATCH_SIZE):
        raise ValueError(
            f"want a ({PATCH_SIZE}, {PATCH_SIZE}) uint8 window, got {patch.dtype} {patch.shape}"
        )
    values = patch.astype(np.float64)
    spectrum = np.fft.rfft2(values - values.mean())
    # Parseval over both half-planes: the mean square of the band-passed window
    power = 2 * float(np.sum(np.abs(spectrum[band_bins(*copy.coarse_px)]) ** 2)) / PATCH_SIZE**4
    if not power > 0:
        raise ValueError("the window has no texture in the coarse band")
    return 0.5 * math.log(power) - math.log(contrast)


def enrolled_level(levels: Sequence[float]) -> float:
    """The level to store for an item: the mean of its enrolment captures' levels, on the
    stored grid (a multiple of `LEVEL_STEP` in [−255 · `LEVEL_STEP`, 0])."""
    if not levels:
        raise ValueError("need at least one enrolment capture's level")
    return quantise(float(np.mean(levels)))


def quantise(level: float) -> float:
    """``level`` on the stored grid."""
    return -to_byte(level) * LEVEL_STEP


def to_byte(level: float) -> int:
    """The stored byte of ``level`` (rounded; clipped into 0..255)."""
    return int(min(max(round(-level / LEVEL_STEP), 0), LEVEL_CODES - 1))
