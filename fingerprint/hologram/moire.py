"""Moiré: a screen's pixel grid, aliased by the camera, as narrow spectral peaks.

A photo shown on a phone or monitor is drawn by a regular grid of RGB sub-pixels; the
camera samples it below its pitch, and the grid folds down into regular fringes
(moiré), strongest in the chromaticity. A printed or diffractive surface has no such
lines in its spectrum. For a few frames, the luminance and both opponent
chromaticities of the window are high-passed, Hann-windowed and Fourier-transformed;
each power spectrum is smoothed over 3×3 bins and divided by its radial mean
(whitened), and its highest value between 6 and 60 cycles per window is the peak. The
score is the largest of the three channels' median peaks over the frames.

References
----------
I. Amidror, *The Theory of the Moiré Phenomenon*, vol. I, 2nd ed., Springer 2009, ch. 2.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from numpy.typing import NDArray

FRAMES = 6
"""Frames, evenly spaced through the burst, that are measured."""


def moire_score(patches: NDArray[np.uint8]) -> float:
    """Whitened spectral peak of (N, S, S, 3) BGR window patches; about 5–10 without a screen."""
    picks = np.unique(np.linspace(0, len(patches) - 1, min(FRAMES, len(patches))).round())
    radius, counts, window, band = _grid(patches.shape[1])
    peaks = []
    for index in picks.astype(int):
        p = patches[index].astype(np.float32)
        total = p.sum(axis=2) + np.float32(12.0)
        channels = (
            p.mean(axis=2) / np.float32(255.0),
            (p[..., 2] - p[..., 1]) / total,
            (p[..., 1] - p[..., 0]) / total,
        )
        row = []
        for channel in channels:
            high = channel - cv2.GaussianBlur(channel, (0, 0), 4.0)
            spectrum = cv2.dft(np.ascontiguousarray(high * window), flags=cv2.DFT_COMPLEX_OUTPUT)
            power = np.fft.fftshift(spectrum[..., 0] ** 2 + spectrum[..., 1] ** 2)
            power = cv2.blur(power, (3, 3))
            radial = np.bincount(radius.ravel(), power.ravel()) / counts
            row.append(float(np.max(power[band] / (radial[radius][band] + 1e-12))))
        peaks.append(row)
    return float(np.max(np.median(np.asarray(peaks), axis=0)))


@functools.cache
def _grid(
    size: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float32], NDArray[np.bool_]]:
    half = size // 2
    radius = np.hypot(*np.mgrid[-half : size - half, -half : size - half]).astype(np.int64)
    counts = np.maximum(np.bincount(radius.ravel()), 1).astype(np.float64)
    window = np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)
    band = (radius >= 6) & (radius <= 60 * size // 128)
    for array in (radius, counts, window, band):
        array.flags.writeable = False
    return radius, counts, window, band
