"""The hologram maps written plainly in NumPy, straight from their definitions.

Not used by the engine: it is the oracle the Numba kernel is tested against
(``tests/fingerprint/hologram/test_hologram_maps.py``) and the reference the benchmark measures
it against (``benchmarks/bench_hologram.py``), as transparency-dev/merkle keeps a slow
reference implementation beside its fast code.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram._kernels import HUE_BINS
from fingerprint.hologram.maps import HologramMaps, exposure_gains
from fingerprint.hologram.params import MapParams
from fingerprint.region import RegionSpec


def reference_maps(
    patches: NDArray[np.uint8],
    cameras: NDArray[np.float64],
    region: RegionSpec = RegionSpec(),
    params: MapParams = MapParams(),
) -> HologramMaps:
    """The maps of :func:`fingerprint.hologram.maps.hologram_maps`, (N, S, S, 3) → (S, S)."""
    n, size = patches.shape[0], patches.shape[1]
    bgr = patches.astype(np.float64) * (1.0 / 255.0)  # the kernel's rounding
    b, g, r = bgr[..., 0], bgr[..., 1], bgr[..., 2]
    top, low = bgr.max(axis=-1), bgr.min(axis=-1)
    span = top - low
    valid = (top >= params.min_value) & (span > 0)
    safe = np.where(span > 0, span, 1.0)
    sector = np.where(
        top == r, (g - b) / safe, np.where(top == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe)
    )
    hue = np.where(valid, sector * (np.pi / 3.0), 0.0)
    saturation = np.where(valid, span / np.where(top > 0, top, 1.0), 0.0)
    s_max = saturation.max(axis=0)
    resultant = np.hypot(np.cos(hue).sum(axis=0), np.sin(hue).sum(axis=0))
    midv = s_max * (1.0 - resultant / n)

    bins: NDArray[np.int64] = np.floor(hue / (2.0 * np.pi) * HUE_BINS).astype(np.int64) % HUE_BINS
    occupied = np.zeros((HUE_BINS, size, size), bool)
    grid = np.indices((size, size))
    for f in range(n):
        seen = saturation[f] > params.hue_saturation
        occupied[bins[f, seen], grid[0][seen], grid[1][seen]] = True
    doubled = np.concatenate([occupied, occupied])
    any_seen = occupied.any(axis=0)
    run = np.zeros((size, size), int)
    gap = np.zeros((size, size), int)
    for k in range(2 * HUE_BINS):
        run = np.where(doubled[k], 0, run + 1)
        gap = np.maximum(gap, np.minimum(run, HUE_BINS))
    hue_range = np.where(any_seen, (HUE_BINS - gap) * (2 * np.pi / HUE_BINS), 0.0)

    exposed = patches.astype(np.float64) * exposure_gains(patches)[:, None, None, :]
    rise = np.clip(exposed - exposed.mean(axis=0), 0, None).sum(axis=-1)
    centres = (np.arange(size) + 0.5) / size
    x = region.x + centres * region.width
    y = region.y + centres * region.height
    dx = cameras[:, 0, None, None] - x[None, None, :]
    dy = cameras[:, 1, None, None] - y[None, :, None]
    above = (dx == 0) & (dy == 0)  # straight above the pixel: no direction
    doubled = np.where(above, 0.0, np.exp(2j * np.arctan2(dy, dx)))
    field = (rise * doubled).sum(axis=0) / (rise.sum(axis=0) + 1e-6)

    def f32(a: NDArray[np.float64]) -> NDArray[np.float32]:
        return np.ascontiguousarray(a, np.float32)

    return HologramMaps(
        s_max=f32(s_max),
        midv=f32(midv),
        hue_range=f32(hue_range),
        glint=f32(rise.max(axis=0)),
        orientation=np.ascontiguousarray(field, np.complex64),
    )
