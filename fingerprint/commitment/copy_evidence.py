"""Is a capture that opened a commitment a print copy? Evidence without a template.

A print copy (the genuine surface photographed, halftoned, printed and recaptured:
`fingerprint.synth.attacks.print_copy`) reproduces the band the code reads well enough
to open most commitments. Three measurements tell it from the genuine surface:

- **Coarse disagreement**. Once a commitment opens, the verifier knows the enrolled
  code (decoded codeword ⊕ helper data) at every committed coefficient, so it can count
  the committed coefficients at the coarse end of the band (12–16 px) whose sign the
  probe reads otherwise. Every usable capture resolves that end; a genuine one flips a
  sign there only where camera noise outweighs the texture, which is rare. A copy adds
  the printer's own structure (halftone, tone jitter, the photograph's misregistration),
  which the camera images like the surface, and flips several times as many. This is
  the coherence argument of `fingerprint.match` (a copy's SNR is capped in every band by
  the copier's noise; Bendat and Piersol 2010, §7.1), read from the code itself.
- **Texture level at enrolment**. How many flips camera noise causes depends on how
  strong the texture is (faint paper flips more than leather), so the commitment carries
  one enrolment statistic: the log RMS of the enrolment windows in the same band relative
  to the grey levels between the code's light and dark modules in the same capture,
  quantised to 1/32 (`texture`). Taken at enrolment, it cannot be moved by a
  copier printing fainter or stronger.
- **Screen peak**. The strongest narrow peak of the probe's whitened spectrum at
  4.5–9 px wavelength: a copier's clustered-dot screen (135–230 lpi, 4.4–7.3 px of the
  window) when the capture resolves it. As `fingerprint.match`'s spectral novelty, but
  against the spectrum's own radial mean instead of an enrolled spectrum.

`copy_score` fuses them by logistic regression (Brümmer and du Preez 2006; weights and
thresholds in `params.CopyParams`, fitted by ``hallmark commit eval --fit``) into the
log-odds that the capture is the genuine surface rather than a copy.

References
----------
J. S. Bendat and A. G. Piersol, "Random Data", 4th ed., Wiley 2010.
N. Brümmer and J. du Preez, "Application-independent evaluation of speaker detection",
Computer Speech and Language 20(2–3), 2006. :DOI:`10.1016/j.csl.2005.08.001`
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fingerprint.commitment.code import wavelengths
from fingerprint.commitment.params import PATCH_SIZE, CommitmentParams, CopyParams
from fingerprint.commitment.scheme import Commitment, Opening
from fingerprint.features import residual
from fingerprint.match import Decision, _spectral_grid, _whitened_spectrum


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyEvidence:
    """What the print-copy check measured on a capture that opened a commitment.

    ``flipped`` of ``compared`` committed coefficients at the coarse end of the band read
    another sign than the enrolled code; ``screen_peak`` is the probe's strongest
    whitened spectral peak in the screen band; ``enrolled_level`` the commitment's
    texture level.
    """

    flipped: int
    compared: int
    screen_peak: float
    enrolled_level: float

    def __post_init__(self) -> None:
        if not 0 <= self.flipped <= self.compared or self.compared == 0:
            raise ValueError(
                f"want 0 ≤ flipped ≤ compared > 0, got {self.flipped}, {self.compared}"
            )

    @property
    def features(self) -> tuple[float, float, float]:
        """The fusion's inputs, in `CopyParams.weights` order: the log-odds of a flip
        (each count moved by 1/2, so that no flips is finite), log screen peak, level."""
        odds = (self.flipped + 0.5) / (self.compared - self.flipped + 0.5)
        return (math.log(odds), math.log(max(self.screen_peak, 1.0)), self.enrolled_level)


def examine(
    commitment: Commitment, opening: Opening, peak: float, params: CopyParams = CopyParams()
) -> CopyEvidence:
    """The copy evidence of a capture that opened ``commitment`` (``opening``) and whose
    window's `screen_peak` is ``peak``.

    Raises ``ValueError`` for an opening that did not open it.
    """
    if not opening.opened or opening.flipped is None:
        raise ValueError("copy evidence needs a capture that opened the commitment")
    flipped, compared = coarse_flips(opening.flipped, commitment.mask, commitment.params, params)
    return CopyEvidence(
        flipped=flipped,
        compared=compared,
        screen_peak=peak,
        enrolled_level=commitment.texture_level,
    )


def copy_score(evidence: CopyEvidence, params: CopyParams = CopyParams()) -> float:
    """Log-odds that the capture is the genuine surface rather than a print copy."""
    return params.bias + float(np.dot(params.weights, evidence.features))


def decide(score: float, params: CopyParams = CopyParams()) -> Decision:
    """Genuine at or above ``genuine_at``, counterfeit below ``counterfeit_below``, else
    a retake: too close to call."""
    if score >= params.genuine_at:
        return Decision.GENUINE
    return Decision.COUNTERFEIT if score < params.counterfeit_below else Decision.RETAKE


def coarse_flips(
    flipped: NDArray[np.bool_],
    mask: NDArray[np.bool_],
    code: CommitmentParams,
    copy: CopyParams = CopyParams(),
) -> tuple[int, int]:
    """How many of the committed coefficients (K,) ``flipped`` at the coarse end of the
    band (``copy.coarse_px``) flipped, and how many there are; ``mask`` (P,) as stored."""
    lo, hi = copy.coarse_px
    each = wavelengths(code.shortest_px, code.longest_px)[mask]
    coarse = (each >= lo) & (each <= hi)
    return int(flipped[coarse].sum()), int(coarse.sum())


def screen_peak(patch: NDArray[np.uint8], copy: CopyParams = CopyParams()) -> float:
    """The strongest whitened spectral peak of the window (S, S) uint8 in the screen band.

    The window's high-pass residual (σ 8 px, `fingerprint.features.residual`) is whitened
    as `fingerprint.match` whitens residuals for its spectral novelty (Hann window, power
    smoothed over 3 × 3 bins, divided by its mean at the same radius); the largest value
    at wavelengths ``copy.screen_px`` is returned (a texture without a screen: about 4–14).
    """
    grid = _spectral_grid(PATCH_SIZE)
    whitened = _whitened_spectrum(residual(patch, 8.0).astype(np.float32), grid)
    return float(whitened[_screen_bins(*copy.screen_px)].max())


@functools.cache
def _screen_bins(shortest_px: float, longest_px: float) -> NDArray[np.bool_]:
    """Bins of `fingerprint.match`'s centred spectrum grid with a wavelength in the band."""
    radius = _spectral_grid(PATCH_SIZE).radius
    inside = (radius >= PATCH_SIZE / longest_px) & (radius <= PATCH_SIZE / shortest_px)
    inside.flags.writeable = False
    return np.asarray(inside)
