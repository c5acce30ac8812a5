"""Per-pixel maps of a registered burst: how each pixel's colour changes with the angle.

* S_max, the maximum HSV saturation over the frames, and the **MIDV-Holo baseline map**
  ``S_max·(1 − ‖ΣC‖/N)`` with C the unit hue vectors of the N frames: high where a
  pixel is strongly coloured in some frame and its hue wanders (Koliaskina et al. 2023);
* the hue range (the hue circle minus its largest unvisited gap) and the chromaticity
  spread (RMS distance of the rg-chromaticities from their mean);
* the **chromatic edge energy**: the mean over frames of the gradient magnitude of the
  opponent chromaticity. Where two gratings meet, the colours on either side differ in
  the frames that light either one, so this map draws the item's own mosaic of
  gratings (its design, where the foil was stamped, its flakes) whatever the sweep;
  it is what identity is matched on.

References
----------
L. Koliaskina, E. Emelianova, D. Bocharov, I. Konovalenko, M. Gayer, V. Arlazarov,
"MIDV-Holo: A Dataset for ID Document Hologram Detection in a Video Stream", ICDAR 2023,
LNCS 14189, pp. 486–503.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram import _kernels
from fingerprint.hologram.params import MapParams

Map = NDArray[np.float32]


@dataclass(frozen=True, slots=True, kw_only=True)
class HologramMaps:
    """The maps of one burst, each (S, S) float32; see the module docstring."""

    s_max: Map = field(repr=False)
    midv: Map = field(repr=False)
    hue_range: Map = field(repr=False)
    spread: Map = field(repr=False)
    edges: Map = field(repr=False)

    def __post_init__(self) -> None:
        for array in (self.s_max, self.midv, self.hue_range, self.spread, self.edges):
            array.flags.writeable = False


def hologram_maps(patches: NDArray[np.uint8], params: MapParams = MapParams()) -> HologramMaps:
    """The maps of registered window patches (N ≥ 1, S, S, 3) BGR uint8, S ≥ 3."""
    if patches.dtype != np.uint8 or patches.ndim != 4 or patches.shape[3] != 3:
        raise ValueError(f"want (N, S, S, 3) uint8 patches, got {patches.dtype} {patches.shape}")
    if patches.shape[0] == 0 or min(patches.shape[1:3]) < 3:
        raise ValueError(f"want at least one patch of at least 3×3 px, got {patches.shape}")
    out = np.zeros((5, *patches.shape[1:3]), np.float32)
    _kernels.pixel_maps(np.ascontiguousarray(patches), params.min_value, params.hue_saturation, out)
    return HologramMaps(s_max=out[0], midv=out[1], hue_range=out[2], spread=out[3], edges=out[4])
