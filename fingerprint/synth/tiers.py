"""Capture settings: the parameters of one synthetic photograph, and how each tier draws them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from fingerprint.synth.scene import Background

#: Camera pixels per code module at scale 1 (the surface is downsampled ×0.5).
NOMINAL_PX_PER_MODULE = 8.0


class Tier(StrEnum):
    """Capture difficulty: how far the pose, optics and sensor stray from ideal."""

    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureParams:
    """Everything that defines a capture, apart from the noise and background draws.

    Attributes
    ----------
    scale : float
        Camera pixels per module divided by 8, at the label's centre.
    rotation_deg : float
        In-plane rotation of the label.
    tilt_deg, tilt_axis_deg : float
        Angle between the label's normal and the optical axis, and the in-frame
        direction of the axis the label is tilted about.
    placement : tuple of float
        Where the label sits in the room the frame leaves it, (x, y) in [0, 1].
    defocus_px : float
        Radius of the defocus disc, camera pixels.
    motion_px, motion_angle_deg : float
        Length and direction of the linear motion blur, camera pixels.
    exposure : float
        Sensor level of a perfect white under the mean light, fraction of full scale.
    gradient, vignetting : float
        Relative light change centre-to-edge and loss at the corners.
    white_balance : tuple of float
        Residual gain per channel, BGR.
    photons : float
        Photo-electrons at full scale (sets the Poisson part of the noise).
    read_noise : float
        Standard deviation of the signal-independent part, fraction of full scale.
    gamma : float
        Display gamma of the tone curve (the encoded value is ``raw ** (1 / gamma)``).
    contrast : float
        Weight of the S-shaped contrast curve blended into the tone curve, 0–1.
    jpeg_quality : int
        Quality of the JPEG encoding, 0–100.
    background : Background
        What the label lies on.
    """

    scale: float
    rotation_deg: float
    tilt_deg: float
    tilt_axis_deg: float
    placement: tuple[float, float]
    defocus_px: float
    motion_px: float
    motion_angle_deg: float
    exposure: float
    gradient: float
    vignetting: float
    white_balance: tuple[float, float, float]
    photons: float
    read_noise: float
    gamma: float
    contrast: float
    jpeg_quality: int
    background: Background


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ranges:
    """Ranges parameters are drawn from (uniformly) for one tier."""

    max_tilt_deg: float
    defocus_px: tuple[float, float]
    motion_px: tuple[float, float]
    gradient: tuple[float, float]
    photons: tuple[float, float]
    read_noise: tuple[float, float]
    jpeg_quality: tuple[int, int]


_TIERS = {
    Tier.EASY: _Ranges(
        max_tilt_deg=5.0,
        defocus_px=(0.0, 0.6),
        motion_px=(0.0, 1.0),
        gradient=(0.0, 0.15),
        photons=(15e3, 30e3),
        read_noise=(1e-3, 2e-3),
        jpeg_quality=(85, 95),
    ),
    Tier.MEDIUM: _Ranges(
        max_tilt_deg=15.0,
        defocus_px=(0.3, 1.2),
        motion_px=(0.0, 2.5),
        gradient=(0.0, 0.35),
        photons=(5e3, 15e3),
        read_noise=(2e-3, 5e-3),
        jpeg_quality=(60, 95),
    ),
    Tier.HARD: _Ranges(
        max_tilt_deg=25.0,
        defocus_px=(0.8, 2.0),
        motion_px=(1.0, 4.0),
        gradient=(0.2, 0.6),
        photons=(1e3, 4e3),
        read_noise=(5e-3, 1.2e-2),
        jpeg_quality=(60, 80),
    ),
}


def sample_params(rng: np.random.Generator, tier: Tier) -> CaptureParams:
    """Draw capture parameters for ``tier``.

    Every tier draws the scale from 0.7–1.4, any in-plane rotation, the tone curve and
    the background alike; the tier bounds the tilt (5°, 15°, 25°), defocus, motion blur,
    light gradient, noise and JPEG quality (see ``docs/synth.md`` for the table).

    Returns
    -------
    CaptureParams
    """
    ranges = _TIERS[tier]

    def between(bounds: tuple[float, float]) -> float:
        return float(rng.uniform(*bounds))

    return CaptureParams(
        scale=between((0.7, 1.4)),
        rotation_deg=between((0.0, 360.0)),
        tilt_deg=between((0.0, ranges.max_tilt_deg)),
        tilt_axis_deg=between((0.0, 180.0)),
        placement=(between((0.0, 1.0)), between((0.0, 1.0))),
        defocus_px=between(ranges.defocus_px),
        motion_px=between(ranges.motion_px),
        motion_angle_deg=between((0.0, 180.0)),
        exposure=between((0.65, 0.9)),
        gradient=between(ranges.gradient),
        vignetting=between((0.0, 0.3)),
        white_balance=(between((0.9, 1.1)), 1.0, between((0.9, 1.1))),
        photons=between(ranges.photons),
        read_noise=between(ranges.read_noise),
        gamma=between((1.8, 2.6)),
        contrast=between((0.2, 0.6)),
        jpeg_quality=int(rng.integers(ranges.jpeg_quality[0], ranges.jpeg_quality[1] + 1)),
        background=list(Background)[int(rng.integers(len(Background)))],
    )
