"""Synthetic diffraction-grating holograms: a foil in the fingerprint window of a label.

A hologram label is the usual printed label (GS1 DataMatrix, window frame, text) with a
metallised foil in its window. The foil is a mosaic of diffraction gratings: every
surface pixel has a grating orientation and pitch. Its colour, seen from direction
``v`` and lit from direction ``l`` (unit vectors, surface frame), follows the grating
equation: light of wavelength λ leaves along ``v`` in order ``m`` when the tangential
components satisfy ``v_t + l_t = m·λ/d·ĝ`` (ĝ the grating vector, d the pitch). Each
colour channel is a band around its peak wavelength; a Gaussian tolerance ``spread``
on that condition stands for the light source's size and the relief's imperfection.

The foil's layout has two parts:

* the product's **design**, the same on every item of the product line (Voronoi
  domains and a ring of radial gratings, drawn from the design seed);
* what makes the item unique: the foil is hot-stamped with a placement error (shift
  up to ``PLACEMENT_MODULES``, rotation up to 3°) and carries randomly scattered
  diffractive flakes, each with its own orientation and pitch.

References
----------
E. Hecht, *Optics*, 5th ed., 2017, §10.2.8 (the grating equation, oblique incidence).
J. W. Goodman, *Introduction to Fourier Optics*, 4th ed., 2017, §4.4.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.region import RegionSpec
from fingerprint.synth.fields import Field, as_field, gaussian_field
from fingerprint.synth.gs1 import element_string
from fingerprint.synth.label import (
    SURFACE_PX_PER_MODULE,
    SURFACE_SHAPE,
    module_to_surface,
    print_label,
)

#: Peak wavelength of each colour channel in µm, BGR order (camera sensitivity peaks).
CHANNEL_WAVELENGTHS_UM = (0.46, 0.54, 0.61)
#: GS1 item reference of the hologram product line (the microtexture lines use 10–14).
HOLOGRAM_PRODUCT = 30
#: Largest hot-stamping placement error of the foil, in code modules.
PLACEMENT_MODULES = 1.0
#: The foil is this many modules smaller than the window on each side.
FOIL_INSET_MODULES = 1.0
#: Grating pitch range, µm: the first order lands in the visible for 8–25° of tilt.
PITCH_UM = (0.8, 1.4)
#: Diffuse reflectance of the metallised foil outside the diffraction condition.
FOIL_DIFFUSE = 0.3
#: Gain of the diffracted light relative to a white diffuser.
DIFFRACTION_GAIN = 1.0
#: Tolerance on the grating condition (sine units): source size and relief imperfection.
SPREAD = 0.1


@dataclass(frozen=True, slots=True, kw_only=True)
class Gratings:
    """Per-pixel gratings of a foil, on a surface window.

    ``gx``, ``gy`` are the grating vector ĝ/d in µm⁻¹ per surface pixel, shape (H, W),
    float32, zero where there is no foil; ``foil`` (H, W) is 1 on the foil, 0 off it.
    """

    gx: Field
    gy: Field
    foil: Field

    def __post_init__(self) -> None:
        for array in (self.gx, self.gy, self.foil):
            array.flags.writeable = False


@dataclass(frozen=True, slots=True, kw_only=True)
class HologramItem:
    """A label carrying a hologram foil in its fingerprint window.

    ``surface`` is the printed label's reflectance × 255 (uint8, ``SURFACE_SHAPE``) as
    for microtexture items; ``gratings`` cover the window, whose top-left surface pixel
    is ``window_origin`` (x, y). ``diffractive`` is False for a flat copy: then
    ``static_colour`` (window shape, 3) is what the window shows from every angle, and
    ``emissive`` says it glows (a screen) rather than reflects.
    """

    item_id: str
    gs1: str
    surface: NDArray[np.uint8] = dataclasses.field(repr=False)
    gratings: Gratings = dataclasses.field(repr=False)
    window_origin: tuple[int, int]
    diffractive: bool = True
    static_colour: Field | None = dataclasses.field(default=None, repr=False)
    emissive: bool = False

    def __post_init__(self) -> None:
        self.surface.flags.writeable = False
        if self.static_colour is not None:
            self.static_colour.flags.writeable = False


def window_box() -> tuple[int, int, int]:
    """(x0, y0, side) of the fingerprint window on the surface, surface pixels."""
    region = RegionSpec()
    top_left = module_to_surface(np.array([[region.x, region.y]]))[0]
    x0, y0 = (round(v + 0.5) for v in top_left)
    return x0, y0, round(region.width * SURFACE_PX_PER_MODULE)


def design_gratings(design_seed: int, side: int) -> tuple[Field, Field]:
    """The product's design: grating orientation (radians) and pitch (µm), (side, side).

    Voronoi domains with their own orientation and pitch, and a ring around the centre
    whose gratings point radially (a kinegram-like motif); a pure function of the seed.
    """
    rng = np.random.default_rng(design_seed)
    cells = 24
    seeds = rng.uniform(0, side, (cells, 2)).astype(np.float32)
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    distance = np.stack([np.hypot(xs - x, ys - y) for x, y in seeds])
    nearest = np.argmin(distance, axis=0)
    orientation = rng.uniform(0, np.pi, cells).astype(np.float32)[nearest]
    pitch = rng.uniform(*PITCH_UM, cells).astype(np.float32)[nearest]
    centre = side / 2 + rng.uniform(-0.1, 0.1, 2) * side
    radius = np.hypot(xs - centre[0], ys - centre[1])
    ring = (radius > 0.22 * side) & (radius < 0.34 * side)
    orientation[ring] = np.arctan2(ys - centre[1], xs - centre[0])[ring]
    pitch[ring] = np.float32(0.5 * sum(PITCH_UM)) + np.float32(0.15) * np.sin(
        radius[ring] / np.float32(6.0)
    )
    return as_field(orientation), as_field(pitch)


def _flakes(
    rng: np.random.Generator, orientation: Field, pitch: Field, count: int
) -> tuple[Field, Field]:
    """Scatter ``count`` diffractive flakes (discs of 5–14 px radius) over the fields."""
    side = orientation.shape[0]
    orientation, pitch = orientation.copy(), pitch.copy()
    for _ in range(count):
        mask = np.zeros(orientation.shape, np.uint8)
        x, y = rng.uniform(0, side, 2)
        cv2.circle(mask, (round(x), round(y)), round(rng.uniform(5, 14)), 1, -1)
        hit = mask.astype(bool)
        orientation[hit] = rng.uniform(0, np.pi)
        pitch[hit] = rng.uniform(*PITCH_UM)
    return orientation, pitch


def foil_gratings(
    rng: np.random.Generator, orientation: Field, pitch: Field, *, flakes: int = 150
) -> Gratings:
    """Hot-stamp a foil of the given design into the window, with flakes and placement error."""
    side = orientation.shape[0]
    orientation, pitch = _flakes(rng, orientation, pitch, flakes)
    shift = rng.uniform(-1, 1, 2) * PLACEMENT_MODULES * SURFACE_PX_PER_MODULE
    turn = cv2.getRotationMatrix2D((side / 2, side / 2), float(rng.uniform(-3, 3)), 1.0)
    turn[:, 2] += shift
    inset = round(FOIL_INSET_MODULES * SURFACE_PX_PER_MODULE)
    foil = np.zeros((side, side), np.float32)
    foil[inset:-inset, inset:-inset] = 1.0
    placed = [
        cv2.warpAffine(a, turn, (side, side), flags=cv2.INTER_NEAREST) for a in (orientation, pitch)
    ]
    foil = cv2.warpAffine(foil, turn, (side, side), flags=cv2.INTER_LINEAR)
    # a direction (cos θ, sin θ) moved by the affine map's linear part turns by its angle
    angle = placed[0] + np.float32(np.arctan2(turn[1, 0], turn[0, 0]))
    inverse_pitch = np.where(placed[1] > 0, 1 / np.maximum(placed[1], 1e-3), 0).astype(np.float32)
    return Gratings(
        gx=as_field(np.cos(angle) * inverse_pitch * foil),
        gy=as_field(np.sin(angle) * inverse_pitch * foil),
        foil=as_field(foil),
    )


def plain_label(rng: np.random.Generator, gs1: str) -> NDArray[np.uint8]:
    """The label printed on white stock (the foil covers the window)."""
    stock = np.float32(0.86) + np.float32(0.02) * gaussian_field(rng, SURFACE_SHAPE, 1.5)
    return print_label(as_field(stock), gs1, rng)


def make_hologram_item(
    rng: np.random.Generator, index: int, *, design_seed: int = 7, flakes: int = 150
) -> HologramItem:
    """Item ``index`` (0–9999) of the hologram product line whose design is ``design_seed``."""
    if not 0 <= index < 10_000:
        raise ValueError(f"item index must be in 0..9999, got {index}")
    gs1 = element_string(product=HOLOGRAM_PRODUCT, serial=HOLOGRAM_PRODUCT * 10_000 + index)
    x0, y0, side = window_box()
    orientation, pitch = design_gratings(design_seed, side)
    return HologramItem(
        item_id=f"hologram-{index:04d}",
        gs1=gs1,
        surface=plain_label(rng, gs1),
        gratings=foil_gratings(rng, orientation, pitch, flakes=flakes),
        window_origin=(x0, y0),
    )


def diffraction(
    gratings: Gratings, wx: Field, wy: Field, *, spread: float = SPREAD
) -> NDArray[np.float32]:
    """Diffracted intensity per channel for tangential vectors ``w = v_t + l_t``.

    ``wx``, ``wy`` have the gratings' shape (or broadcast to it); returns (H, W, 3) BGR,
    the sum over orders m = ±1 of exp(−|w − m·λ_c·ĝ/d|² / 2·spread²), zero off the foil.
    """
    channels = []
    for wavelength in CHANNEL_WAVELENGTHS_UM:
        lam = np.float32(wavelength)
        total = np.zeros(gratings.gx.shape, np.float32)
        for order in (-1.0, 1.0):
            dx = wx - np.float32(order) * lam * gratings.gx
            dy = wy - np.float32(order) * lam * gratings.gy
            total += np.exp((dx * dx + dy * dy) * np.float32(-0.5 / spread**2))
        channels.append(total * gratings.foil)
    return np.stack(channels, axis=-1)


def window_colour(item: HologramItem, wx: Field, wy: Field) -> NDArray[np.float32]:
    """Reflectance (or emission) of the window seen with tangential vectors ``w``, (S, S, 3).

    The foil's metallic diffuse grey plus its diffracted light, over the printed label
    where there is no foil; a flat copy shows its ``static_colour`` whatever ``w`` is.
    """
    if not item.diffractive:
        assert item.static_colour is not None
        return item.static_colour
    x0, y0, side = window_box()
    under = item.surface[y0 : y0 + side, x0 : x0 + side].astype(np.float32) / np.float32(255)
    foil = item.gratings.foil[..., None]
    flat = under[..., None] * (1 - foil) + np.float32(FOIL_DIFFUSE) * foil
    return as_field(flat + np.float32(DIFFRACTION_GAIN) * diffraction(item.gratings, wx, wy))
