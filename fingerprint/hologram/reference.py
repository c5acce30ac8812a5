"""The hologram maps written plainly in NumPy, straight from their definitions.

Not used by the engine: it is the oracle the Numba kernel is tested against
(``tests/fingerprint/hologram/test_maps.py``) and the reference the benchmark measures
it against (``benchmarks/bench_hologram.py``), as transparency-dev/merkle keeps a slow
reference implementation beside its fast code.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram._kernels import HUE_BINS
from fingerprint.hologram.maps import HologramMaps
from fingerprint.hologram.params import MapParams


def reference_maps(patches: NDArray[np.uint8], params: MapParams = MapParams()) -> HologramMaps:
    """The maps of :func:`fingerprint.hologram.maps.hologram_maps`, (N, S, S, 3) → (S, S)."""
    n = patches.shape[0]
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
    occupied = np.zeros((HUE_BINS, *patches.shape[1:3]), bool)
    grid = np.indices(patches.shape[1:3])
    for f in range(n):
        seen = saturation[f] > params.hue_saturation
        occupied[bins[f, seen], grid[0][seen], grid[1][seen]] = True
    doubled = np.concatenate([occupied, occupied])
    any_seen = occupied.any(axis=0)
    run = np.zeros(patches.shape[1:3], int)
    gap = np.zeros(patches.shape[1:3], int)
    for k in range(2 * HUE_BINS):
        run = np.where(doubled[k], 0, run + 1)
        gap = np.maximum(gap, np.minimum(run, HUE_BINS))
    hue_range = np.where(any_seen, (HUE_BINS - gap) * (2 * np.pi / HUE_BINS), 0.0)

    total = b + g + r + 1e-6
    cr, cg = r / total, g / total
    spread = np.sqrt(np.maximum(cr.var(axis=0) + cg.var(axis=0), 0.0))

    raw = patches.astype(np.float64)
    weight = raw.sum(axis=-1) + 12.0
    chroma = np.stack([(raw[..., 2] - raw[..., 1]) / weight, (raw[..., 1] - raw[..., 0]) / weight])
    padded = np.pad(chroma, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    dx = padded[:, :, 1:-1, 2:] - padded[:, :, 1:-1, :-2]
    dy = padded[:, :, 2:, 1:-1] - padded[:, :, :-2, 1:-1]
    edges = np.sqrt((dx**2 + dy**2).sum(axis=0)).mean(axis=0)

    def f32(a: NDArray[np.float64]) -> NDArray[np.float32]:
        return np.ascontiguousarray(a, np.float32)

    return HologramMaps(
        s_max=f32(s_max),
        midv=f32(midv),
        hue_range=f32(hue_range),
        spread=f32(spread),
        edges=f32(edges),
    )
