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
PLANES = 6
"""Maps the kernel writes, in ``pixel_maps``'s ``out`` order."""


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
def pixel_maps(
    patches: NDArray[np.uint8],
    gains: NDArray[np.float64],
    cameras: NDArray[np.float64],
    origin: NDArray[np.float64],
    step: NDArray[np.float64],
    min_value: float,
    hue_saturation: float,
    out: NDArray[np.float32],
) -> None:
    """Per-pixel statistics of a registered burst.

    Parameters
    ----------
    patches : (N, S, S, 3) uint8, C-contiguous
        The window in every frame, BGR; S ≥ 1.
    gains : (N, 3) float64, C-contiguous
        Per frame and channel, the factor that brings a pixel value to the burst's
        common exposure, in [0, 1] units (``1/255`` when frames need no correction).
    cameras : (N, 3) float64, C-contiguous
        Camera centre of each frame, in the module units of the label's plane.
    origin, step : (2,) float64
        Patch pixel (x, y) lies at ``origin + (x + ½, y + ½)·step`` in module units.
    min_value : float
        HSV value below which a pixel's saturation is taken as 0.
    hue_saturation : float
        Only frames more saturated than this count towards the hue range.
    out : (PLANES, S, S) float32, C-contiguous
        Receives, per pixel: 0 the maximum saturation S_max; 1 the MIDV-Holo map
        S_max·(1 − ‖ΣC‖/N), C the unit hue vectors; 2 the hue range in radians (the
        circle minus its largest gap between the hues seen); 3 the glint, the most the
        pixel's exposure-corrected B + G + R rises above its per-channel mean over the
        frames; 4 and 5 the grating orientation field, cos 2φ and sin 2φ of the
        directions φ to the camera averaged with weights the pixel's rise in each frame.
    """
    n, rows, cols = patches.shape[0], patches.shape[1], patches.shape[2]
    scale = 1.0 / 255.0
    for y in prange(rows):
        occupied = np.zeros(HUE_BINS, np.bool_)
        for x in range(cols):
            sum_cos = 0.0
            sum_sin = 0.0
            s_max = 0.0
            occupied[:] = False
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
            out[0, y, x] = s_max
            out[1, y, x] = s_max * (1.0 - math.sqrt(sum_cos**2 + sum_sin**2) / n)
            out[2, y, x] = _range(occupied) * (2.0 * math.pi / HUE_BINS)

            mean_b = 0.0
            mean_g = 0.0
            mean_r = 0.0
            for f in range(n):
                mean_b += patches[f, y, x, 0] * gains[f, 0]
                mean_g += patches[f, y, x, 1] * gains[f, 1]
                mean_r += patches[f, y, x, 2] * gains[f, 2]
            mean_b /= n
            mean_g /= n
            mean_r /= n
            px = origin[0] + (x + 0.5) * step[0]
            py = origin[1] + (y + 0.5) * step[1]
            glint = 0.0
            total = 0.0
            field_cos = 0.0
            field_sin = 0.0
            for f in range(n):
                rise = (
                    max(0.0, patches[f, y, x, 0] * gains[f, 0] - mean_b)
                    + max(0.0, patches[f, y, x, 1] * gains[f, 1] - mean_g)
                    + max(0.0, patches[f, y, x, 2] * gains[f, 2] - mean_r)
                )
                dx = cameras[f, 0] - px
                dy = cameras[f, 1] - py
                radius = dx * dx + dy * dy
                glint = max(glint, rise)
                total += rise
                if radius > 0.0:
                    field_cos += rise * (dx * dx - dy * dy) / radius
                    field_sin += rise * 2.0 * dx * dy / radius
            out[3, y, x] = glint
            out[4, y, x] = field_cos / (total + 1e-6)
            out[5, y, x] = field_sin / (total + 1e-6)


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
