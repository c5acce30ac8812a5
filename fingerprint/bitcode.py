"""A compact binary code of a window for 1:N search and, later, fuzzy commitment.

The code is the sign pattern of the whitened low-frequency power spectrum of the
template's noise residual: Hann window, FFT, log power, minus its local mean (Gaussian
over :data:`WHITEN_SIGMA` bins); bit ``i`` says whether frequency bin ``i`` holds more
power than its neighbourhood. Bins are taken in a fixed order, nearest the origin first
(from :data:`MIN_RADIUS` cycles per window, one half-plane since the spectrum of a real
image is symmetric), so a longer code extends a shorter one. ``margin`` is each bit's
distance from the threshold, the reliability a fuzzy-commitment scheme masks on.

Why the power spectrum and not filter signs at fixed places (Toreini et al. 2017 quantise
Gabor responses on a grid, as Daugman's iris code does): windows rectified from a
code's corners still land up to ~14 px apart (of 256), which flips a third of the bits
of oriented-filter codes at any wavelength tried, while the power spectrum ignores
translation (the shift theorem) and changes little under the remaining small scale
and rotation errors at low frequencies. Measured on 40 items × 3 MEDIUM captures
(5 materials): 256 bits, same item 7.4% of bits differ on average and at most 13.7%;
different items at least 37.5% (38.3% within a material); Gabor signs (λ = 8–32 px,
4 orientations): same item 15–33% on average, worst pairs 53–63%.

A probe whose window was not located by a code (the whole image is the window) is
aligned only up to a similarity; `probe_codes` samples the same spectrum at rotated and
scaled bin positions, one code per hypothesis.

References
----------
.. [1] E. Toreini, S. F. Shahandashti and F. Hao, "Texture to the rescue: practical
   paper fingerprinting based on texture patterns", ACM Trans. Privacy and Security
   20(3), 2017. :DOI:`10.1145/3092816`
.. [2] J. Daugman, "How iris recognition works", IEEE Trans. Circuits and Systems for
   Video Technology 14(1), 2004. :DOI:`10.1109/TCSVT.2003.818350`
.. [3] A. Juels and M. Wattenberg, "A fuzzy commitment scheme", Proc. ACM CCS 1999.
   :DOI:`10.1145/319709.319714`
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

MIN_RADIUS = 3.0
"""Lowest frequency used, cycles per window: below it lie illumination and the window edge."""
WHITEN_SIGMA = 3.0
"""Local mean of the log power, Gaussian sigma in bins (3 beat 4 and 6 in the run above)."""
WORD_BITS = 64
"""Codes are whole 64-bit words, for POPCNT."""
MAX_BITS = 4096
"""Longest code: far beyond the stable band, but room for fuzzy commitment's 2048."""


@dataclass(frozen=True, slots=True)
class BitCode:
    """A code of ``n_bits`` bits and the reliability of each.

    ``bits``: (n_bits // 8,) uint8, packed most significant bit first (`numpy.packbits`);
    ``margin``: (n_bits,) float32, how far each bit's value lay from its threshold.
    """

    bits: NDArray[np.uint8] = field(repr=False)
    margin: NDArray[np.float32] = field(repr=False)

    def __post_init__(self) -> None:
        if self.bits.dtype != np.uint8 or self.margin.shape != (self.bits.size * 8,):
            raise ValueError(
                f"want packed uint8 bits and one margin per bit, got {self.bits.dtype} "
                f"{self.bits.shape} and margins {self.margin.shape}"
            )
        self.bits.flags.writeable = False
        self.margin.flags.writeable = False

    @property
    def n_bits(self) -> int:
        return int(self.bits.size * 8)

    def mask(self, keep: int) -> NDArray[np.uint8]:
        """Packed mask of the ``keep`` most reliable bits (ties: lower bit first)."""
        if not 0 <= keep <= self.n_bits:
            raise ValueError(f"keep must be in 0..{self.n_bits}, got {keep}")
        chosen = np.zeros(self.n_bits, np.bool_)
        chosen[np.argsort(-self.margin, kind="stable")[:keep]] = True
        return np.packbits(chosen)


def bitcode(residual: NDArray[np.int8], n_bits: int = 256) -> BitCode:
    """The code of a template's residual (S, S) int8 (`Features.residual`).

    Raises ``ValueError`` for a non-square or non-int8 residual, or ``n_bits`` not a
    multiple of 64 in 64..4096 or more than the residual's spectrum holds.
    """
    whitened = _whitened_log_power(residual)
    plan = _plan(residual.shape[0], _check_bits(n_bits, residual.shape[0]))
    values = whitened[plan.rows, plan.cols]
    return BitCode(bits=np.packbits(values > 0), margin=np.abs(values).astype(np.float32))


def probe_codes(
    residual: NDArray[np.int8],
    n_bits: int = 256,
    *,
    angles_deg: Sequence[float] = (0.0,),
    scales: Sequence[float] = (1.0,),
) -> NDArray[np.uint8]:
    """Codes (H, n_bits // 8) for every rotation × scale of the window, packed.

    Hypothesis (a, s) reads the spectrum where the reference's bins land if the probe
    window is the reference's turned by ``a`` degrees (counter-clockwise on screen, as
    ``cv2.getRotationMatrix2D``) and magnified ``s`` times (bilinear between bins).
    With ``a = 0, s = 1`` it equals ``bitcode(...).bits``. Half a turn of angles is
    enough: the power spectrum of a real image is symmetric.
    """
    size = residual.shape[0]
    plan = _plan(size, _check_bits(n_bits, size))
    whitened = _whitened_log_power(residual)
    centre = size // 2
    u, v = plan.cols - centre, plan.rows - centre
    codes = []
    for angle in angles_deg:
        c, s = np.cos(np.radians(angle)), -np.sin(np.radians(angle))
        for scale in scales:
            if not scale > 0:
                raise ValueError(f"scales must be positive, got {scale}")
            # A magnification by s moves frequency content to 1/s of its radius.
            x = ((c * u - s * v) / scale + centre).astype(np.float32)
            y = ((s * u + c * v) / scale + centre).astype(np.float32)
            sampled = cv2.remap(whitened, x[None], y[None], cv2.INTER_LINEAR)[0]
            codes.append(np.packbits(sampled > 0))
    return np.array(codes, np.uint8).reshape(len(codes), n_bits // 8)


def hamming(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> int:
    """Number of differing bits of two packed codes of equal length."""
    if a.shape != b.shape:
        raise ValueError(f"codes differ in length: {a.shape} vs {b.shape}")
    return int(np.unpackbits(np.bitwise_xor(a, b)).sum())


def _check_bits(n_bits: int, size: int) -> int:
    available = len(_plan_order(size))
    if not (
        isinstance(n_bits, int)
        and n_bits % WORD_BITS == 0
        and WORD_BITS <= n_bits <= min(MAX_BITS, available)
    ):
        raise ValueError(
            f"n_bits must be a multiple of {WORD_BITS} in {WORD_BITS}.."
            f"{min(MAX_BITS, available)} for a {size}-px window, got {n_bits!r}"
        )
    return n_bits


def _whitened_log_power(residual: NDArray[np.int8]) -> NDArray[np.float32]:
    if residual.dtype != np.int8 or residual.ndim != 2 or residual.shape[0] != residual.shape[1]:
        raise ValueError(f"want a square int8 residual, got {residual.dtype} {residual.shape}")
    size = residual.shape[0]
    values = residual.astype(np.float32)
    values -= values.mean()
    spectrum = np.fft.fftshift(np.fft.fft2(values * _hann(size)))
    log_power = np.log(np.abs(spectrum) ** 2 + 1e-3).astype(np.float32)
    local = cv2.GaussianBlur(log_power, (0, 0), WHITEN_SIGMA)
    return np.asarray(log_power - local, np.float32)


@functools.cache
def _hann(size: int) -> NDArray[np.float32]:
    window = np.outer(np.hanning(size), np.hanning(size)).astype(np.float32)
    window.flags.writeable = False
    return window


@dataclass(frozen=True, slots=True)
class _Plan:
    rows: NDArray[np.intp]
    cols: NDArray[np.intp]


@functools.cache
def _plan_order(size: int) -> NDArray[np.intp]:
    """Flat indexes of the centred spectrum's bins in code order: radius, then angle.

    One half-plane (v > 0, or v = 0 and u > 0), radius from `MIN_RADIUS` to below
    Nyquist; the order is exact (integer radii squared, then the angle).
    """
    half = size // 2
    v, u = np.mgrid[-half : size - half, -half : size - half]
    r2 = (u * u + v * v).ravel()
    keep = ((v > 0) | ((v == 0) & (u > 0))).ravel()
    keep &= (r2 >= MIN_RADIUS**2) & (r2 < (half - 1) ** 2)
    index = np.flatnonzero(keep)
    angle = np.arctan2(v.ravel()[index], u.ravel()[index])
    order = index[np.lexsort((angle, r2[index]))]
    order.flags.writeable = False
    return order


@functools.cache
def _plan(size: int, n_bits: int) -> _Plan:
    rows, cols = np.divmod(_plan_order(size)[:n_bits], size)
    rows.flags.writeable = False
    cols.flags.writeable = False
    return _Plan(rows=rows, cols=cols)
