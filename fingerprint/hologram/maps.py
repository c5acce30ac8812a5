"""Per-pixel maps of a registered burst: how each pixel's colour changes with the angle.

* S_max, the maximum HSV saturation over the frames, and the **MIDV-Holo baseline map**
  ``S_max·(1 − ‖ΣC‖/N)`` with C the unit hue vectors of the N frames: high where a
  pixel is strongly coloured in some frame and its hue wanders (Koliaskina et al. 2023);
  the hue range (the hue circle minus its largest unvisited gap);
* the **glint**: each frame is first brought to the burst's common exposure (its
  channels divided by their mean over the window); a pixel's glint is then the most
  its B + G + R rises above its own mean over the frames. A grating sends light into
  a narrow cone, so a foil pixel is its diffuse grey from most angles and shines from a
  few; ink looks the same from every angle;
* the **grating orientation field**: a grating of direction ĝ shines when the view and
  light directions satisfy ``v_t + l_t = m·λ/d·ĝ`` (Hecht, *Optics*, §10.2.8); with the
  light beside the lens (a phone's torch) that is when the camera lies along ±ĝ seen
  from the pixel. So the directions φ from the pixel to the camera, averaged on the
  doubled-angle circle with the pixel's rise in each frame as weights, give
  ``c·e^{2iθ}``: θ the grating's orientation (mod 180°), c ≤ 1 how consistently it
  shone along one axis. This is the foil itself — its design, where it was stamped
  and its flakes — whatever the sweep, and what identity is matched on.

References
----------
L. Koliaskina, E. Emelianova, D. Bocharov, I. Konovalenko, M. Gayer, V. Arlazarov,
"MIDV-Holo: A Dataset for ID Document Hologram Detection in a Video Stream", ICDAR 2023,
LNCS 14189, pp. 486–503.
E. Hecht, *Optics*, 5th ed., Pearson 2017, §10.2.8.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram import _kernels
from fingerprint.hologram.params import MapParams
from fingerprint.region import RegionSpec

Map = NDArray[np.float32]


@dataclass(frozen=True, slots=True, kw_only=True)
class HologramMaps:
    """The maps of one burst, (S, S) float32 each; ``orientation`` (S, S) complex64 is
    the grating orientation field ``c·e^{2iθ}``. See the module docstring."""

    s_max: Map = field(repr=False)
    midv: Map = field(repr=False)
    hue_range: Map = field(repr=False)
    glint: Map = field(repr=False)
    orientation: NDArray[np.complex64] = field(repr=False)

    def __post_init__(self) -> None:
        for array in (self.s_max, self.midv, self.hue_range, self.glint, self.orientation):
            array.flags.writeable = False


def exposure_gains(patches: NDArray[np.uint8]) -> NDArray[np.float64]:
    """(N, 3) factors bringing each frame's channels to the burst's mean exposure, /255.

    A frame's exposure in a channel is its mean over the window; light gradients,
    auto-exposure and vignetting change it from frame to frame, a foil's glints little
    (they cover a small part of the window in any one frame).
    """
    level = np.array([cv2.mean(patch)[:3] for patch in patches], np.float64) / 255
    return np.ascontiguousarray(level.mean(axis=0) / (level + 1e-3) / 255)


def hologram_maps(
    patches: NDArray[np.uint8],
    cameras: NDArray[np.float64],
    region: RegionSpec = RegionSpec(),
    params: MapParams = MapParams(),
) -> HologramMaps:
    """The maps of registered window patches (N ≥ 1, S, S, 3) BGR uint8 seen from
    ``cameras`` (N, 3), camera centres in module units (``Registration.cameras``)."""
    if patches.dtype != np.uint8 or patches.ndim != 4 or patches.shape[3] != 3:
        raise ValueError(f"want (N, S, S, 3) uint8 patches, got {patches.dtype} {patches.shape}")
    if patches.shape[0] == 0 or patches.shape[1] != patches.shape[2]:
        raise ValueError(f"want at least one square patch, got {patches.shape}")
    if cameras.shape != (len(patches), 3):
        raise ValueError(f"want cameras ({len(patches)}, 3), got {cameras.shape}")
    out = np.zeros((_kernels.PLANES, *patches.shape[1:3]), np.float32)
    _kernels.pixel_maps(
        np.ascontiguousarray(patches),
        exposure_gains(patches),
        np.ascontiguousarray(cameras, np.float64),
        np.array([region.x, region.y], np.float64),
        np.array([region.width, region.height], np.float64) / patches.shape[2],
        params.min_value,
        params.hue_saturation,
        out,
    )
    return HologramMaps(
        s_max=out[0],
        midv=out[1],
        hue_range=out[2],
        glint=out[3],
        orientation=(out[4] + 1j * out[5]).astype(np.complex64),
    )
