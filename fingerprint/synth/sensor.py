"""Image sensor and encoder: Bayer sampling, Poisson–Gaussian noise, tone curve, JPEG."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.synth.fields import Field, as_field, uniform_bytes

#: BGR channel sampled at each site of a 2×2 Bayer cell (row parity, column parity): red at
#: the top-left, the layout ``cv2.COLOR_BayerBG2BGR`` demosaics.
BAYER_CHANNELS = np.array([[2, 1], [1, 0]])


def bayer_view(plane: Field) -> Field:
    """View of an (H, W) plane, H and W even, as (H/2, 2, W): pairs of Bayer rows."""
    height, width = plane.shape
    return plane.reshape(height // 2, 2, width)


def row_pattern(per_channel: NDArray[np.float32], width: int) -> NDArray[np.float32]:
    """Per-channel (BGR) values laid out along a pair of Bayer rows, shape (2, width).

    Broadcasts against :func:`bayer_view` with long inner loops (a (2, 2) cell would not).
    """
    cell = np.asarray(per_channel, np.float32)[BAYER_CHANNELS]
    return np.ascontiguousarray(np.tile(cell, (1, (width + 1) // 2))[:, :width])


def _noise(rng: np.random.Generator, shape: tuple[int, int]) -> Field:
    """Zero-mean, unit-variance noise: the sum of two uniform bytes (cheap, near-Gaussian)."""
    pair = uniform_bytes(rng, (2, *shape))
    scale = 1 / np.sqrt(2 * (256**2 - 1) / 12)
    return as_field(cv2.addWeighted(pair[0], scale, pair[1], scale, -255 * scale, dtype=cv2.CV_32F))


def add_noise(
    signal: Field, rng: np.random.Generator, *, photons: float, read_noise: float
) -> Field:
    """Signal-dependent sensor noise with the Poisson–Gaussian variance ``a·y + b``.

    Parameters
    ----------
    signal : Field
        Expected raw signal ``y`` as a fraction of full scale, shape (H, W).
    rng : numpy.random.Generator
        Source of randomness.
    photons : float
        Photo-electrons at full scale: ``a = 1 / photons``.
    read_noise : float
        Standard deviation of the signal-independent part: ``b = read_noise²``.

    Returns
    -------
    Field
        ``y + √(a·y + b)·n`` with ``n`` zero-mean and unit-variance (a heteroscedastic
        Gaussian approximation of the Poisson–Gaussian model), shape (H, W).

    References
    ----------
    A. Foi, M. Trimeche, V. Katkovnik and K. Egiazarian, "Practical Poissonian-Gaussian
    noise modeling and fitting for single-image raw-data", IEEE TIP 17(10), 2008.
    """
    clipped = cv2.max(signal, 0.0)
    variance = cv2.addWeighted(clipped, 1 / photons, clipped, 0.0, read_noise**2)
    return as_field(cv2.add(cv2.multiply(_noise(rng, signal.shape), cv2.sqrt(variance)), signal))


def develop(raw: Field, *, gamma: float, contrast: float) -> NDArray[np.uint8]:
    """Clip, apply the tone curve, quantise to 8 bits and demosaic.

    The tone curve is the power law ``v = raw ** (1/gamma)`` blended, with weight
    ``contrast``, with the S-curve ``v²(3 − 2v)`` that phone pipelines add for punch.

    Parameters
    ----------
    raw : Field
        Bayer mosaic (see ``BAYER_CHANNELS``) as a fraction of full scale, shape (H, W).

    Returns
    -------
    NDArray[np.uint8]
        BGR frame, shape (H, W, 3), bilinear demosaicing.
    """
    levels = np.clip(raw * np.float32(4095) + np.float32(0.5), 0, 4095).astype(np.uint16)
    mosaic = np.take(_tone_curve(gamma, contrast), levels)
    return np.asarray(cv2.cvtColor(mosaic, cv2.COLOR_BayerBG2BGR))


def _tone_curve(gamma: float, contrast: float) -> NDArray[np.uint8]:
    """12-bit linear → 8-bit encoded lookup table."""
    encoded = np.linspace(0.0, 1.0, 4096) ** (1 / gamma)
    punchy = encoded * encoded * (3 - 2 * encoded)
    return np.round(255 * (encoded + contrast * (punchy - encoded))).astype(np.uint8)


def encode_jpeg(frame: NDArray[np.uint8], quality: int) -> bytes:
    """Baseline JPEG file of a BGR ``frame`` at ``quality`` (OpenCV's libjpeg)."""
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {frame.shape} frame as JPEG")
    return encoded.tobytes()
