"""An item's code for a commitment: signs of its window's Fourier coefficients in one band.

The window (cut at the code's refined frame, `fingerprint.commitment.frame`) is
transformed (DFT), and the real and imaginary parts of every coefficient whose
wavelength lies in ``shortest_px`` … ``longest_px`` (one half-plane: the other is their
complex conjugate) are the code's values, scaled to unit RMS; a bit is a value's sign,
its magnitude the bit's reliability. The window is not tapered: a taper (tried: Tukey,
10% of each side) couples neighbouring coefficients, whose signs then disagree 60% of
the time, which the public mask would let an attacker exploit.

Why this band, and why Fourier coefficients rather than filter outputs at points:

- **Twins**: a twin from the same mould shares the surface's structure coarser than
  about 17 px of the window (24 surface px, `fingerprint.synth.twin`); the band stops at
  16 px. **Resolution**: a capture at 5.6 px per code module (the farthest MEDIUM
  captures) still resolves 7 px.
- **Independence**: the DFT of a stationary texture has uncorrelated coefficients, so the
  bits are nearly independent and the mask (which keeps the strongest) says little about
  their signs: neighbouring coefficients both committed share a sign 51.7% of the time
  on train300 (`hallmark commit eval`), while band-passed values sampled at points 4 px
  apart (the first design tried) shared it 15% (diagonal neighbours) to 62% of the time,
  relations a public mask would hand to an attacker. Binomial degrees of freedom of
  other items' distances: 1,320 of the 1,392 committed bits and 455 of the 464 outer
  bits, against 277 of 456 outer bits for the sampled points.

Several enrolment captures vote on each value (Hao, Anderson and Daugman 2006; Tuyls
et al. 2005 select reliable components the same way): values whose sign held in every
capture rank first, each group by the magnitude of their mean.

References
----------
F. Hao, R. Anderson and J. Daugman, "Combining crypto with biometrics effectively",
IEEE Trans. Computers 55(9), 2006. :DOI:`10.1109/TC.2006.138`
P. Tuyls, A. H. M. Akkermans, T. A. M. Kevenaar, G.-J. Schrijen, A. M. Bazen and
R. N. J. Veldhuis, "Practical biometric authentication with template protection",
AVBPA 2005. :DOI:`10.1007/11527923_45`
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fingerprint.commitment.errors import EnrolmentError
from fingerprint.commitment.params import PATCH_SIZE


@dataclass(frozen=True, slots=True, kw_only=True)
class Enrolled:
    """An item's code from its enrolment captures: ``signs`` (P,) bool and their
    ``reliability`` (P,) float32 (higher: more trustworthy)."""

    signs: NDArray[np.bool_] = field(repr=False)
    reliability: NDArray[np.float32] = field(repr=False)

    def __post_init__(self) -> None:
        if self.signs.shape != self.reliability.shape or self.signs.ndim != 1:
            raise ValueError(
                f"want signs and reliabilities (P,), got {self.signs.shape} and "
                f"{self.reliability.shape}"
            )
        self.signs.flags.writeable = False
        self.reliability.flags.writeable = False

    def mask(self, keep: int) -> NDArray[np.bool_]:
        """The ``keep`` most reliable positions (P,) (ties: lower position first)."""
        if not 0 <= keep <= self.signs.size:
            raise ValueError(f"keep must be in 0..{self.signs.size}, got {keep}")
        chosen = np.zeros(self.signs.size, np.bool_)
        chosen[np.argsort(-self.reliability, kind="stable")[:keep]] = True
        return chosen


def band_values(patch: NDArray[np.uint8], shortest_px: int, longest_px: int) -> NDArray[np.float32]:
    """The code's values (P,) float32 of a window (`PATCH_SIZE`, `PATCH_SIZE`) uint8.

    Real parts, then imaginary parts, of the DFT coefficients in the band (`band_size`
    gives P), scaled to unit RMS. Raises ``ValueError`` for a window of another shape
    or dtype, or a flat one.
    """
    if patch.dtype != np.uint8 or patch.shape != (PATCH_SIZE, PATCH_SIZE):
        raise ValueError(
            f"want a ({PATCH_SIZE}, {PATCH_SIZE}) uint8 window, got {patch.dtype} {patch.shape}"
        )
    values = patch.astype(np.float64)
    spectrum = np.fft.rfft2(values - values.mean())
    inside = spectrum[band_bins(shortest_px, longest_px)]
    parts = np.concatenate([inside.real, inside.imag])
    rms = float(np.sqrt(np.mean(parts**2)))
    if not rms > 0:
        raise ValueError("the window is flat: it has no texture in the band")
    return np.asarray(parts / rms, np.float32)


def band_size(shortest_px: int, longest_px: int) -> int:
    """How many values (P) `band_values` gives for this band."""
    return 2 * int(band_bins(shortest_px, longest_px).sum())


def wavelengths(shortest_px: int, longest_px: int) -> NDArray[np.float64]:
    """The wavelength in px (P,) of each of `band_values`' values, in their order."""
    inside = band_bins(shortest_px, longest_px)
    v = np.fft.fftfreq(PATCH_SIZE, 1 / PATCH_SIZE)[:, None]
    u = np.arange(PATCH_SIZE // 2 + 1)[None, :]
    each = PATCH_SIZE / np.broadcast_to(np.hypot(u, v), inside.shape)[inside]
    return np.concatenate([each, each])


def neighbours(shortest_px: int, longest_px: int) -> NDArray[np.intp]:
    """Pairs (N, 2) of value positions that are the same part of adjacent coefficients.

    For measuring what a mask reveals about relative signs (docs/commitment.md).
    """
    inside = band_bins(shortest_px, longest_px)
    index = np.full(inside.shape, -1, np.intp)
    index[inside] = np.arange(int(inside.sum()))
    pairs = [
        np.stack([a[(a >= 0) & (b >= 0)], b[(a >= 0) & (b >= 0)]], axis=1)
        for a, b in ((index[:-1], index[1:]), (index[:, :-1], index[:, 1:]))
    ]
    half = np.concatenate(pairs)
    return np.concatenate([half, half + int(inside.sum())])


def enrol(values: Sequence[NDArray[np.float32]]) -> Enrolled:
    """The majority code of one or more captures' `band_values`, with each bit's reliability.

    Bits whose sign held in every capture rank above all others; within each group, by
    the magnitude of the mean value. Raises `EnrolmentError` for no captures or codes
    of different lengths.
    """
    if not values:
        raise EnrolmentError("need at least one enrolment capture")
    if len({v.shape for v in values}) != 1:
        raise EnrolmentError(f"captures differ in code length: {[v.shape for v in values]}")
    stack = np.array(values, np.float32)
    mean = stack.mean(axis=0)
    signs = mean > 0
    strength = np.abs(mean)
    held = ((stack > 0) == signs).all(axis=0)
    reliability = strength + held * (1.0 + strength.max())
    return Enrolled(signs=signs, reliability=reliability.astype(np.float32))


@functools.cache
def band_bins(shortest_px: float, longest_px: float) -> NDArray[np.bool_]:
    """Which coefficients of `numpy.fft.rfft2`'s layout (S, S // 2 + 1) have a wavelength
    of ``shortest_px`` … ``longest_px`` (the code's band, or a part of it).

    Of the columns u = 0 and u = S/2, which `rfft2` holds for both signs of v, only
    v ≥ 0 is kept (the rest are conjugates), and the zero frequency never.
    """
    size = PATCH_SIZE
    v = np.fft.fftfreq(size, 1 / size)[:, None]
    u = np.arange(size // 2 + 1)[None, :]
    radius = np.hypot(u, v)
    inside = (radius >= size / longest_px) & (radius <= size / shortest_px)
    inside &= ~(((u == 0) | (u == size // 2)) & (v < 0))
    inside.flags.writeable = False
    return np.asarray(inside)
