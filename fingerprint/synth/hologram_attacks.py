"""Counterfeits of a hologram label; each carries the genuine item's GS1 string.

* :func:`printed_copy`: the hologram photographed from one angle and printed in colour:
  its colours are those of that one view, whatever the angle.
* :func:`screen_replay`: the same photograph shown on a phone or monitor held up to the
  camera: emissive, static, drawn by RGB sub-pixel stripes (which alias into moiré).
* :func:`generic_film`: the label reprinted with stock holographic film in the window:
  real diffraction (the colours do change with the angle) but not the item's pattern.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from fingerprint.synth.fields import Field, as_field, gaussian_field
from fingerprint.synth.hologram import (
    HologramItem,
    design_gratings,
    foil_gratings,
    plain_label,
    window_box,
    window_colour,
)


def _photographed_window(target: HologramItem, rng: np.random.Generator) -> Field:
    """The window as one photograph sees it: a view 8–22° off the normal, light near the lens.

    ``w`` is then about twice the tangential view vector, varying linearly across the
    window as the camera's direction does (about ±0.25 from edge to edge).
    """
    _, _, side = window_box()
    tilt = np.deg2rad(rng.uniform(8, 22))
    azimuth = rng.uniform(0, 2 * np.pi)
    ys, xs = (np.mgrid[0:side, 0:side].astype(np.float32) - side / 2) / np.float32(side)
    wx = as_field(2 * np.sin(tilt) * np.cos(azimuth) - 0.5 * xs)
    wy = as_field(2 * np.sin(tilt) * np.sin(azimuth) - 0.5 * ys)
    colour = window_colour(target, wx, wy)
    return as_field(cv2.GaussianBlur(colour, (0, 0), 1.0))


def printed_copy(target: HologramItem, rng: np.random.Generator) -> HologramItem:
    """The label reprinted on a colour printer from one photograph of the hologram.

    The photographed colours are pulled into the printer's gamut (saturation × 0.8,
    white at the paper's 0.9) and carry the stock's noise; the code and text are
    reprinted.
    """
    colour = _photographed_window(target, rng)
    grey = colour.mean(axis=2, keepdims=True)
    printed = grey + np.float32(0.8) * (colour - grey)
    _, _, side = window_box()
    noise = np.float32(0.02) * gaussian_field(rng, (side, side), 1.0)[..., None]
    static = as_field(np.clip(printed * np.float32(0.9) + noise, 0.02, 0.9))
    return dataclasses.replace(
        target,
        item_id=f"{target.item_id}~printed_copy",
        surface=plain_label(rng, target.gs1),
        diffractive=False,
        static_colour=static,
    )


def screen_replay(target: HologramItem, rng: np.random.Generator) -> HologramItem:
    """The photograph on a screen: pixels of 2.5–4 surface px, each three RGB stripes.

    Each screen pixel shows the photograph's mean colour over it; its red, green and
    blue sub-pixels are vertical stripes a third of the pixel wide, so every channel is
    dark two thirds of the time (the screen's own grid, which the camera aliases).
    """
    colour = _photographed_window(target, rng)
    side = colour.shape[0]
    pitch = float(rng.uniform(2.5, 4.0))
    cells = max(1, round(side / pitch))
    pixels = cv2.resize(colour, (cells, cells), interpolation=cv2.INTER_AREA)
    shown = cv2.resize(pixels, (side, side), interpolation=cv2.INTER_NEAREST)
    angle = float(rng.uniform(-5, 5))
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32)
    along = xs * np.float32(np.cos(np.deg2rad(angle))) + ys * np.float32(np.sin(np.deg2rad(angle)))
    stripe = np.floor(3 * np.mod(along / np.float32(pitch), 1.0)).astype(np.int64)
    # BGR channel 2 - stripe: red, green, blue from left to right
    mask = (np.arange(3)[None, None, :] == (2 - stripe)[..., None]).astype(np.float32)
    brightness = np.float32(rng.uniform(0.8, 1.1))
    return dataclasses.replace(
        target,
        item_id=f"{target.item_id}~screen",
        static_colour=as_field(3 * brightness * shown * mask),
        diffractive=False,
        emissive=True,
    )


def generic_film(target: HologramItem, rng: np.random.Generator) -> HologramItem:
    """The label reprinted with stock holographic film: a foreign design, maybe with flakes."""
    _, _, side = window_box()
    if rng.random() < 0.5:
        orientation, pitch = design_gratings(int(rng.integers(1_000, 1_000_000)), side)
    else:  # rainbow foil: broad bands of one grating, slowly turning
        turn = np.float32(rng.uniform(0, np.pi)) + np.float32(0.6) * gaussian_field(
            rng, (side, side), 60.0
        )
        orientation = as_field(np.mod(turn, np.pi))
        pitch = as_field(np.full((side, side), rng.uniform(0.9, 1.3), np.float32))
    flakes = int(rng.integers(0, 120))
    return dataclasses.replace(
        target,
        item_id=f"{target.item_id}~generic_film",
        surface=plain_label(rng, target.gs1),
        gratings=foil_gratings(rng, orientation, pitch, flakes=flakes),
    )
