"""Numba kernel of the hologram maps (private).

The kernel trusts its input: shapes, dtypes and contiguity are checked by
:func:`fingerprint.hologram.maps.hologram_maps`. It releases the GIL and runs rows in
parallel.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

HUE_BINS = 36
"""The hue circle is cut into this many 10° bins to measure a pixel's hue range."""


@njit(cache=True, nogil=True, inline="always")
def _hsv(b: float, g: float, r: float, min_value: float) -> tuple[float, float]:
    """(saturation, hue in radians) of a BGR pixel in [0, 1]; saturation 0 when too dark."""
    top = max(b, g, r)
    span = top - min(b, g, r)
    if top < min_value or span <= 0.0:
        return 0.0, 0.0
    if top == r:
        sector = (g - b) / span
    elif top == g:
        sector = 2.0 + (b - r) / span
    else:
        sector = 4.0 + (r - g) / span
    return span / top, sector * (math.pi / 3.0)


@njit(cache=True, nogil=True, parallel=True)
def _chroma_planes(patches: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Opponent chromaticity ((R − G)/Σ, (G − B)/Σ), Σ = R + G + B + 12: (N, S, S, 2)."""
    n, rows, cols = patches.shape[0], patches.shape[1], patches.shape[2]
    out = np.empty((n, rows, cols, 2), np.float32)
    for fy in prange(n * rows):
        f, y = divmod(np.int64(fy), rows)  # prange's index is unsigned
        for x in range(cols):
            b = float(patches[f, y, x, 0])
            g = float(patches[f, y, x, 1])
            r = float(patches[f, y, x, 2])
            total = b + g + r + 12.0
            out[f, y, x, 0] = (r - g) / total
            out[f, y, x, 1] = (g - b) / total
    return out


@njit(cache=True, nogil=True, parallel=True)
def pixel_maps(
    patches: NDArray[np.uint8],
    min_value: float,
    hue_saturation: float,
    out: NDArray[np.float32],
) -> None:
    """Per-pixel statistics of a registered burst.

    Parameters
    ----------
    patches : (N, S, S, 3) uint8, C-contiguous
        The window in every frame, BGR; S ≥ 3.
    min_value : float
        HSV value below which a pixel's saturation is taken as 0.
    hue_saturation : float
        Only frames more saturated than this count towards the hue range.
    out : (5, S, S) float32, C-contiguous
        Receives, per pixel: 0 the maximum saturation S_max; 1 the MIDV-Holo map
        S_max·(1 − ‖ΣC‖/N), C the unit hue vectors; 2 the hue range in radians (the
        circle minus its largest gap between the hues seen); 3 the chromaticity spread
        (RMS distance of the rg-chromaticities from their mean); 4 the chromatic edge
        energy, the mean over frames of the central-difference gradient magnitude of
        the opponent chromaticity (borders clamped).
    """
    n, rows, cols = patches.shape[0], patches.shape[1], patches.shape[2]
    scale = 1.0 / 255.0
    chroma = _chroma_planes(patches)
    for y in prange(rows):
        up = max(y - 1, 0)
        down = min(y + 1, rows - 1)
        occupied = np.zeros(HUE_BINS, np.bool_)
        for x in range(cols):
            left = max(x - 1, 0)
            right = min(x + 1, cols - 1)
            sum_cos = 0.0
            sum_sin = 0.0
            s_max = 0.0
            occupied[:] = False
            sum_r = 0.0
            sum_g = 0.0
            sum_rr = 0.0
            sum_gg = 0.0
            edge = 0.0
            for f in range(n):
                b = patches[f, y, x, 0] * scale
                g = patches[f, y, x, 1] * scale
                r = patches[f, y, x, 2] * scale
                s, h = _hsv(b, g, r, min_value)
                sum_cos += math.cos(h)
                sum_sin += math.sin(h)
                s_max = max(s_max, s)
                if s > hue_saturation:
                    occupied[math.floor(h / (2.0 * math.pi) * HUE_BINS) % HUE_BINS] = True
                total = b + g + r + 1e-6
                cr = r / total
                cg = g / total
                sum_r += cr
                sum_g += cg
                sum_rr += cr * cr
                sum_gg += cg * cg
                da = chroma[f, y, right, 0] - chroma[f, y, left, 0]
                db = chroma[f, y, right, 1] - chroma[f, y, left, 1]
                ea = chroma[f, down, x, 0] - chroma[f, up, x, 0]
                eb = chroma[f, down, x, 1] - chroma[f, up, x, 1]
                edge += math.sqrt(da * da + db * db + ea * ea + eb * eb)
            out[0, y, x] = s_max
            out[1, y, x] = s_max * (1.0 - math.sqrt(sum_cos**2 + sum_sin**2) / n)
            out[2, y, x] = _range(occupied) * (2.0 * math.pi / HUE_BINS)
            mean_r = sum_r / n
            mean_g = sum_g / n
            spread = sum_rr / n - mean_r * mean_r + sum_gg / n - mean_g * mean_g
            out[3, y, x] = math.sqrt(max(spread, 0.0))
            out[4, y, x] = edge / n


@njit(cache=True, nogil=True, inline="always")
def _range(occupied: NDArray[np.bool_]) -> int:
    """Bins spanned by the occupied bins of a circular histogram: all minus the largest gap."""
    bins = occupied.shape[0]
    count = 0
    for k in range(bins):
        count += occupied[k]
    if count == 0:
        return 0
    gap = 0
    run = 0
    for k in range(2 * bins):
        if occupied[k % bins]:
            run = 0
        else:
            run += 1
            gap = max(gap, min(run, bins))
    return int(bins - gap)
