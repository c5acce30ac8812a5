"""What surrounds a label in a camera frame: the surface it lies on, and the light.

Both are smooth at the pixel scale (drawn at quarter resolution and resized), so the
only sharp content in a synthetic frame is the label, which the optics then blur.
"""

from __future__ import annotations

from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.synth.fields import Field, as_field, gaussian_field

_COARSE = 4  # backgrounds and light are drawn on a grid this many times coarser


class Background(StrEnum):
    """Kinds of surface a label is photographed on."""

    WOOD = "wood"
    CARDBOARD = "cardboard"
    DESK = "desk"


# Reflectance of each background per channel, in BGR order.
_TINT: dict[Background, tuple[float, float, float]] = {
    Background.WOOD: (0.22, 0.36, 0.55),
    Background.CARDBOARD: (0.33, 0.46, 0.6),
    Background.DESK: (0.42, 0.4, 0.36),
}


def _coarse_shape(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    return (height + _COARSE - 1) // _COARSE, (width + _COARSE - 1) // _COARSE


def _upsample(coarse: Field, size: tuple[int, int]) -> Field:
    width, height = size
    up = cv2.resize(
        coarse,
        (coarse.shape[1] * _COARSE, coarse.shape[0] * _COARSE),
        interpolation=cv2.INTER_LINEAR,
    )
    return np.ascontiguousarray(up[:height, :width])


def _wood_grain(rng: np.random.Generator, shape: tuple[int, int]) -> Field:
    """Growth rings with dark latewood edges, wandering, plus streaks along the grain."""
    height, width = shape
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(6, 14)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    across = xs * np.float32(np.sin(angle)) - ys * np.float32(np.cos(angle))
    wobble = 1.5 * gaussian_field(rng, shape, 40.0) + 0.3 * gaussian_field(rng, shape, 10.0)
    rings = np.modf(across / np.float32(period) + wobble + np.float32(1e3))[0] ** 4
    # streaks: isotropic noise stretched 15× along the grain
    streak = gaussian_field(rng, shape, 0.8)
    stretch = cv2.getRotationMatrix2D((width / 2, height / 2), np.rad2deg(angle), 1.0)
    stretch[:, :2] = stretch[:, :2] @ np.diag([1 / 15, 1.0])
    streak = cv2.warpAffine(streak, stretch, (width, height), borderMode=cv2.BORDER_REFLECT)
    return as_field(1 - 0.2 * rings + 0.06 * streak + 0.05 * gaussian_field(rng, shape, 30.0))


def background(
    rng: np.random.Generator, kind: Background, size: tuple[int, int]
) -> tuple[Field, NDArray[np.float32]]:
    """A frame-sized background and its colour.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    kind : Background
        What the label lies on.
    size : tuple of int
        Frame (width, height).

    Returns
    -------
    shading : Field
        Relative brightness around 1, shape (height, width).
    colour : NDArray[np.float32]
        Mean reflectance per channel, BGR, shape (3,).
    """
    shape = _coarse_shape(size)
    match kind:
        case Background.WOOD:
            shading = _wood_grain(rng, shape)
        case Background.CARDBOARD:
            shading = (
                1 + 0.08 * gaussian_field(rng, shape, 6.0) + 0.05 * gaussian_field(rng, shape, 0.7)
            )
        case Background.DESK:
            shading = (
                1 + 0.04 * gaussian_field(rng, shape, 30.0) + 0.06 * gaussian_field(rng, shape, 0.5)
            )
    tint = np.asarray(_TINT[kind], np.float32) * np.float32(rng.uniform(0.8, 1.2))
    return _upsample(np.asarray(shading, np.float32), size), tint


def illumination(
    rng: np.random.Generator, size: tuple[int, int], *, gradient: float, vignetting: float
) -> Field:
    """Relative irradiance over the frame: a linear gradient times radial fall-off.

    ``gradient`` is the relative change from the frame's centre to its edge along a
    random direction; ``vignetting`` the relative loss at the corners (cos⁴-like, taken
    as quadratic in the radius).
    """
    height, width = _coarse_shape(size)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    x = (xs - (width - 1) / 2) / np.float32(width / 2)
    y = (ys - (height - 1) / 2) / np.float32(width / 2)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = 1 + np.float32(gradient) * (
        x * np.float32(np.cos(angle)) + y * np.float32(np.sin(angle))
    )
    corner = float(np.hypot(1.0, height / width))
    falloff = 1 - np.float32(vignetting) * (x * x + y * y) / np.float32(corner * corner)
    return _upsample(np.maximum(ramp * falloff, np.float32(0.05)), size)
