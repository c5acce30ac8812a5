"""Random fields and filters the surface, capture and attack models are built from.

All fields are float32 arrays of shape (H, W) in surface or frame pixels; pixel (i, j)
has its centre at (x, y) = (j, i), OpenCV's convention.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

Field = NDArray[np.float32]

#: A correlated field is drawn on a grid this many times finer than its correlation length.
_SAMPLES_PER_SIGMA = 2.0


def uniform_bytes(rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.uint8]:
    """Independent uniform bytes of ``shape``, straight from the bit generator's raw output.

    About three times faster than ``Generator.bytes``; deterministic in the state of
    ``rng``, which it advances.
    """
    count = int(np.prod(shape))
    raw = rng.bit_generator.random_raw((count + 7) // 8)
    return np.asarray(raw, dtype=np.uint64).view(np.uint8)[:count].reshape(shape)


def gaussian_field(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> Field:
    """Stationary Gaussian random field with a Gaussian correlation of width ``sigma``.

    White noise filtered by a Gaussian of standard deviation ``sigma`` pixels and scaled
    by its known gain to zero mean and unit variance (in expectation). Long correlations
    are drawn on a coarse grid and resized up, so the cost does not grow with ``sigma``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    shape : tuple of int
        (H, W) of the result.
    sigma : float
        Correlation width in pixels; 0 gives white noise.

    Returns
    -------
    Field
        Shape (H, W), float32, expected mean 0 and standard deviation 1.
    """
    height, width = shape
    step = max(1.0, sigma / _SAMPLES_PER_SIGMA)
    coarse_shape = (int(np.ceil(height / step)) + 3, int(np.ceil(width / step)) + 3)
    # Uniform white noise is cheaper than normal and, once filtered, Gaussian enough.
    field = uniform_bytes(rng, coarse_shape).astype(np.float32)
    spread = np.sqrt((256**2 - 1) / 12)  # standard deviation of a uniform byte
    if sigma > 0:
        kernel = cv2.getGaussianKernel(2 * round(4 * sigma / step) + 1, sigma / step)
        field = cv2.sepFilter2D(field, -1, kernel, kernel)
        spread *= float((kernel**2).sum())  # separable filter k⊗k: std gain Σk²
    field = cv2.addWeighted(field, 1 / spread, field, 0.0, -127.5 / spread)  # one fused pass
    if step > 1.0:
        field = cv2.resize(
            field,
            (round(coarse_shape[1] * step), round(coarse_shape[0] * step)),
            interpolation=cv2.INTER_CUBIC,
        )
    return np.ascontiguousarray(field[:height, :width])


def as_field(values: object) -> Field:
    """``values`` as a float32 array (no copy when it already is one)."""
    return np.asarray(values, dtype=np.float32)


def lowpass(image: Field, sigma: float) -> Field:
    """Gaussian low-pass of ``image`` with standard deviation ``sigma`` pixels."""
    if sigma <= 0:
        return image.copy()
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT))


def highpass(image: Field, sigma: float) -> Field:
    """``image`` minus its Gaussian low-pass of width ``sigma`` pixels."""
    return image - lowpass(image, sigma)


def masked_lowpass(image: Field, weight: Field, sigma: float) -> Field:
    """Gaussian low-pass of ``image`` that ignores pixels of zero ``weight``.

    Normalised convolution: ``blur(image·weight) / blur(weight)``, which fills masked
    holes from their surroundings instead of bleeding the masked content.

    References
    ----------
    H. Knutsson and C.-F. Westin, "Normalized and differential convolution", CVPR 1993.
    """
    num = lowpass(image * weight, sigma)
    den = lowpass(weight, sigma)
    filled = num / np.maximum(den, np.float32(1e-6))
    far = den < 1e-3
    if np.any(far):
        filled[far] = np.float32((image * weight).sum() / max(float(weight.sum()), 1e-6))
    return as_field(filled)


def shade(height: Field, *, azimuth_deg: float, elevation_deg: float) -> Field:
    """Lambertian shading of a height field lit by a distant source.

    Parameters
    ----------
    height : Field
        Surface height in pixel units, shape (H, W).
    azimuth_deg, elevation_deg : float
        Direction of the light: azimuth in the image plane from +x towards +y, and
        elevation above the surface.

    Returns
    -------
    Field
        Cosine of the angle between surface normal and light, clipped at 0, shape (H, W).

    References
    ----------
    B. K. P. Horn, "Hill shading and the reflectance map", Proc. IEEE 69(1), 1981.
    """
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    az, el = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    lx, ly, lz = np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)
    # n ∝ (−gx, −gy, 1); OpenCV's element-wise ops are vectorised and threaded
    towards = cv2.addWeighted(gx, -lx, gy, -ly, lz)
    norm = cv2.sqrt(cv2.addWeighted(cv2.multiply(gx, gx), 1.0, cv2.multiply(gy, gy), 1.0, 1.0))
    return as_field(cv2.max(cv2.divide(towards, norm), 0.0))


def domain_warp(image: Field, rng: np.random.Generator, *, amplitude: float, sigma: float) -> Field:
    """``image`` resampled through a smooth random displacement field.

    Each coordinate is displaced by an independent Gaussian field of correlation width
    ``sigma`` and standard deviation ``amplitude`` pixels (bilinear, reflected borders).
    """
    height, width = image.shape
    dx = gaussian_field(rng, (height, width), sigma) * np.float32(amplitude)
    dy = gaussian_field(rng, (height, width), sigma) * np.float32(amplitude)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.asarray(
        cv2.remap(image, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    )
