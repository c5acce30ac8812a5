"""Ink on a substrate: dot gain, halftone screens, and the reflectance of printed films.

Shared by the label printer, the PRINT material, and the print-copy attack.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from fingerprint.synth.fields import Field, as_field, gaussian_field, lowpass


def spread(
    coverage: Field,
    rng: np.random.Generator,
    *,
    sigma: float,
    gain: float,
    roughness: float,
    threshold: float = 0.4,
) -> Field:
    """Mechanical dot gain: ink spreading past its nominal edge, with ragged borders.

    The nominal coverage is blurred by the spread ``sigma``, perturbed by fine noise of
    amplitude ``roughness`` and passed through a soft ``threshold`` (slope ``gain``) below
    one half, so printed areas grow by a fraction of a pixel and their edges wander; the
    lower the threshold, the smaller the isolated dots that survive.

    Returns
    -------
    Field
        Effective ink coverage in [0, 1], shape (H, W).
    """
    blurred = lowpass(coverage, sigma)
    noise = gaussian_field(rng, coverage.shape, 0.7) * np.float32(roughness)
    return as_field(
        np.clip((blurred + noise - np.float32(threshold)) * np.float32(gain) + 0.5, 0, 1)
    )


def apply_ink(
    substrate: Field,
    coverage: Field,
    *,
    transmittance: Field | float,
    scatter_px: float,
) -> Field:
    """Reflectance of ``substrate`` printed with a light-absorbing ink.

    Light crosses the ink film on its way in, scatters laterally in the substrate and
    crosses it again on its way out: ``R = R_s · T · (PSF ∗ T)`` with the film's
    transmittance ``T = 1 − c·(1 − t)``. Without scattering this reduces to the
    Murray–Davies law with squared transmittance; with it, to the Yule–Nielsen effect
    (optical dot gain).

    Parameters
    ----------
    substrate : Field
        Reflectance of the unprinted material, shape (H, W).
    coverage : Field
        Fractional ink coverage in [0, 1], shape (H, W).
    transmittance : Field or float
        One-pass transmittance ``t`` of a solid ink film.
    scatter_px : float
        Width of the substrate's Gaussian point-spread function, in pixels.

    References
    ----------
    F. R. Ruckdeschel and O. G. Hauser, "Yule–Nielsen effect in printing: a physical
    analysis", Applied Optics 17(21), 1978.
    J. A. C. Yule and W. J. Nielsen, "The penetration of light into paper and its effect
    on halftone reproduction", TAGA Proceedings, 1951.
    """
    film = np.float32(1.0) - coverage * (np.float32(1.0) - np.float32(transmittance))
    return np.asarray(substrate * film * lowpass(film, scatter_px), dtype=np.float32)


def apply_white(substrate: Field, coverage: Field, *, opacity: float, white: Field) -> Field:
    """``substrate`` overprinted with white ink of the given ``opacity`` (reflectance ``white``)."""
    cover = coverage * np.float32(opacity)
    return np.asarray(substrate * (np.float32(1.0) - cover) + white * cover, dtype=np.float32)


_SPOT_LEVELS = 1024


@lru_cache(maxsize=1)
def _spot_cdf() -> NDArray[np.float32]:
    """Cumulative distribution of the spot function over one cell, tabulated on [-1, 1]."""
    phase = (np.arange(512) + 0.5) / 512 * 2 * np.pi
    spot = np.sort(((np.cos(phase)[:, None] + np.cos(phase)[None, :]) / 2).ravel())
    levels = np.linspace(-1.0, 1.0, _SPOT_LEVELS + 1)
    cdf = (np.searchsorted(spot, levels) / spot.size).astype(np.float32)
    cdf.flags.writeable = False
    return cdf


def clustered_dot_screen(
    shape: tuple[int, int], *, cell_px: float, angle_deg: float, phase: tuple[float, float]
) -> Field:
    """Threshold array of a rotated clustered-dot (AM) halftone screen.

    The Euclidean-like spot function ``(cos 2πu + cos 2πv) / 2`` on a square grid of pitch
    ``cell_px`` rotated by ``angle_deg`` is equalised so that thresholds are uniform over a
    cell: printing where ``darkness > threshold`` covers a fraction ``darkness`` of each
    cell, dots growing from the cell centres and merging into a checkerboard at 50 %.

    Parameters
    ----------
    shape : tuple of int
        (H, W) of the result.
    cell_px : float
        Screen pitch in pixels.
    angle_deg : float
        Screen angle.
    phase : tuple of float
        Offset of the grid, in cells.

    Returns
    -------
    Field
        Thresholds in [0, 1], shape (H, W).

    References
    ----------
    R. Ulichney, *Digital Halftoning*, MIT Press, 1987, ch. 5 (clustered-dot ordered dither).
    """
    rows = np.arange(shape[0], dtype=np.float64)[:, None]
    cols = np.arange(shape[1], dtype=np.float64)[None, :]
    turn = 2 * np.pi / cell_px
    cos_a, sin_a = np.cos(np.deg2rad(angle_deg)), np.sin(np.deg2rad(angle_deg))
    # cos 2πu + cos 2πv with u, v linear in (x, y): separable products of 1-D waves
    spot = np.zeros(shape, np.float32)
    for along_x, along_y in (
        (turn * cos_a * cols, turn * sin_a * rows + 2 * np.pi * phase[0]),
        (-turn * sin_a * cols, turn * cos_a * rows + 2 * np.pi * phase[1]),
    ):
        spot += np.cos(along_y).astype(np.float32) * np.cos(along_x).astype(np.float32)
        spot -= np.sin(along_y).astype(np.float32) * np.sin(along_x).astype(np.float32)
    index = ((spot + np.float32(2.0)) * np.float32(_SPOT_LEVELS / 4) + np.float32(0.5)).astype(
        np.intp
    )
    return np.float32(1.0) - _spot_cdf()[index]


def halftone(darkness: Field, screen: Field, *, cell_px: float) -> Field:
    """Ink coverage of ``darkness`` (tone in [0, 1], 1 = solid) rendered through ``screen``.

    Edges are anti-aliased over about one pixel.
    """
    return as_field(np.clip((darkness - screen) * np.float32(cell_px) + np.float32(0.5), 0, 1))
