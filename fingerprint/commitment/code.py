"""An item's stable code: spectral sign bits, and the reliability of each learned at enrolment.

The raw code is `fingerprint.bitcode` at `POOL_BITS` bits (the lowest frequencies of
the window's whitened power spectrum). Several enrolment captures vote on each bit,
weighted by its margin; bits that took the same value in every capture rank first
("bits that did not flip"), then by the mean signed margin, as in the reliable-bit
selection of iris codes and PUFs (Hao, Anderson and Daugman 2006; Maes 2013,
§5.3) and of Toreini et al. 2017 for paper. The commitment keeps the most reliable
bits; a probe is read at the same positions under a few rotation and scale hypotheses,
since windows rectified from a code's corners still differ by a degree or two and a
few percent of scale, which moves the higher-frequency bins.

References
----------
F. Hao, R. Anderson and J. Daugman, "Combining crypto with biometrics effectively",
IEEE Trans. Computers 55(9), 2006. :DOI:`10.1109/TC.2006.138`
R. Maes, "Physically Unclonable Functions: Constructions, Properties and
Applications", Springer 2013. :DOI:`10.1007/978-3-642-41395-7`
E. Toreini, S. F. Shahandashti and F. Hao, "Texture to the rescue", ACM TOPS 20(3), 2017.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from fingerprint.bitcode import BitCode, bitcode, probe_codes
from fingerprint.commitment.errors import EnrolmentError

POOL_BITS = 2048
"""Spectral bits the reliable ones are chosen from."""
PROBE_ANGLES_DEG = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
PROBE_SCALES = (0.97, 0.985, 1.0, 1.015, 1.03)
"""Alignment hypotheses a probe is read under (35 in all; each is one decoding attempt)."""


def enrolled_code(residuals: Sequence[NDArray[np.int8]], pool_bits: int = POOL_BITS) -> BitCode:
    """The majority code of an item's enrolment captures, with each bit's reliability.

    ``residuals`` are the (S, S) int8 `Features.residual` of one or more captures.
    The returned code's ``margin`` ranks bits that never flipped above all others,
    each group by the mean of the captures' signed margins; `BitCode.mask` picks the
    most reliable. Raises `EnrolmentError` for no captures or windows of different sizes.
    """
    if not residuals:
        raise EnrolmentError("need at least one enrolment capture")
    if len({r.shape for r in residuals}) != 1:
        raise EnrolmentError(f"captures differ in window size: {[r.shape for r in residuals]}")
    codes = [bitcode(r, pool_bits) for r in residuals]
    bits = np.array([np.unpackbits(c.bits) for c in codes], np.int8)
    signed = ((2 * bits - 1) * np.array([c.margin for c in codes])).mean(axis=0)
    majority = signed > 0
    stable = (bits == majority).all(axis=0)
    strength = np.abs(signed)
    reliability = strength + stable * (1.0 + strength.max())
    return BitCode(bits=np.packbits(majority), margin=reliability.astype(np.float32))


def selected_bits(code: BitCode, mask: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The code's bits (K,) 0/1 where the packed ``mask`` is set, in bit order."""
    return np.asarray(np.unpackbits(code.bits)[np.unpackbits(mask).astype(bool)], np.uint8)


def hypothesis_codes(residual: NDArray[np.int8], pool_bits: int) -> NDArray[np.uint8]:
    """A probe's whole codes (H, pool_bits) 0/1, one row per alignment hypothesis.

    Rows follow `PROBE_ANGLES_DEG` × `PROBE_SCALES` (angle-major).
    """
    codes = probe_codes(residual, pool_bits, angles_deg=PROBE_ANGLES_DEG, scales=PROBE_SCALES)
    return np.asarray(np.unpackbits(codes, axis=1), np.uint8)


def probe_bits(residual: NDArray[np.int8], mask: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A probe's bits (H, K) 0/1 at the packed ``mask``'s positions (`hypothesis_codes`)."""
    return hypothesis_codes(residual, mask.size * 8)[:, np.unpackbits(mask).astype(bool)]
