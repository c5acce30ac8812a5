"""Compare two templates: align, correlate, fuse into one calibrated score, decide.

1. Descriptor matches: Hamming distance, Lowe's ratio test and cross-check in one pass.
2. Geometry: a homography probe → reference by MAGSAC++ (Barath et al. 2020) through
   ``cv2.findHomography(..., cv2.USAC_MAGSAC)``; windows located by the same code land
   within a few pixels of each other, so an implausible homography is dropped for the
   identity.
3. On the aligned overlap: the normalised correlation of the noise residuals in each of
   a few frequency bands (a coherence spectrum), the spectrum of what the reference
   leaves unexplained in the probe, the chi-square distance of the LBP histograms of
   corresponding cells, and the strongest spectral peak the probe has and the reference
   lacks (a print copy's halftone screen).
4. Logistic fusion of those measurements into the log-odds that both captures show the
   same item; thresholds on it give genuine / retake / counterfeit.

Each band's correlation r enters the fusion as the log signal-to-noise ratio of the part
of the probe a linear filter predicts from the reference, log(r² / (1 − r²)) (the
coherent output power ratio: Bendat & Piersol, "Random Data", 4th ed., 2010, §7.1). A
genuine capture's bands lose SNR smoothly towards the fine end, by its blur and noise;
a print copy's SNR is capped in every band by the copier's own noise (halftone, tone
jitter, misregistration), so its coarse bands fall short of a genuine capture's even
when its mid-scale structure survives.

Where that noise sits is told by the unexplained power, (1 − r²) times the probe's power
in each band, per Fourier bin and relative to the finest band. What the reference cannot
explain in a genuine capture is the camera's own noise and compression loss, spread
over the spectrum much as in the finest band, which holds little else; a print copy adds
the printer's structure (halftone, ink mottle, the stock's own texture), which the
camera images like the surface itself, so the unexplained power of its coarse and
middle bands stands far above that floor. Both spectra are taken under a cosine
(Tukey) taper that falls to zero at the overlap's edge (Harris 1978, "On the use of
windows for harmonic analysis with the discrete Fourier transform"): a taper with a step
at the edge leaks the strong coarse bands into the finest ones.

How high those SNRs run for a genuine capture depends on the surface: a photograph's
strong mid-scale content keeps SNRs that a faint paper grain never reaches, so a copy of
a photograph can match as well as a genuine capture of paper. The fusion therefore also
takes the reference's own texture, the log share of each LBP code over its window
(``features.lbp_log_shares``; texture statistics tell materials apart), as an additive
term: a score offset that depends on the enrolled item alone, in the way biometric
score normalisation shifts each enrolled model's scores (Z-norm: Auckenthaler, Carey &
Lloyd-Thomas, "Score normalization for text-independent speaker verification systems",
Digital Signal Processing 10, 2000) and quality-based fusion conditions on what it
knows of a sample (Poh & Kittler, "A unified framework for biometric expert fusion
incorporating quality measures", IEEE TPAMI 34, 2012). It is read from the enrolment,
which a counterfeiter cannot change.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.errors import TemplateFormatError
from fingerprint.features import lbp_log_shares
from fingerprint.hamming import match_descriptors
from fingerprint.lbp import lbp_chi2
from fingerprint.params import MatchParams, QualityParams
from fingerprint.quality import QualityIssue, RetakeReason, assess
from fingerprint.template import Template

_MARGIN = 8
_MIN_OVERLAP_PX = 64
#: Width (px) over which the spectral taper rises from 0 at the overlap's edge to 1.
_TAPER_PX = 12.0
#: Band correlations are clipped so that r² stays within [1e-3, 1 − 1e-4]: log-SNR −6.9 … 9.2.
_R2_RANGE = (1e-3, 1 - 1e-4)
#: Novelty enters as log(max(novelty, 1)): a probe with no spectral peak beyond the
#: reference's (a featureless frame has none at all: novelty 0) is no evidence either way.
#: Every synthetic genuine capture measures ≥ 4.8, so the floor leaves the fit unchanged.
_NOVELTY_FLOOR = 1.0


class Decision(enum.StrEnum):
    GENUINE = "genuine"
    COUNTERFEIT = "counterfeit"
    RETAKE = "retake"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What the score was computed from.

    ``homography`` maps probe patch coordinates to reference patch coordinates (3, 3).
    ``bands`` are the normalised correlations of the aligned residuals in each band of
    ``MatchParams.coherence_bands``, coarse to fine (empty if not measured);
    ``unexplained`` is, for each band but the finest, the log power per Fourier bin of
    the part of the probe the reference does not explain, (1 − r²)·power, minus the same
    in the finest band (the capture's noise floor); ``coarse`` and ``fine`` are the
    correlations over the coarser and the finer half of the bands;
    ``lbp_distance`` is the mean chi-square distance of corresponding LBP cells;
    ``overlap`` is the share of the reference window the aligned probe covers;
    ``novelty`` is the strongest spectral peak of the aligned probe's residual that the
    reference lacks (whitened power ratio): a halftone screen from a print copy;
    ``texture`` is the reference's own texture, the log share of each LBP code over its
    window (``features.lbp_log_shares``), which sets how high a genuine capture's SNRs run.
    """

    matches: int
    inliers: int
    homography: NDArray[np.float64] = field(repr=False)
    fine: float
    coarse: float
    lbp_distance: float
    overlap: float
    novelty: float
    bands: tuple[float, ...] = ()
    unexplained: tuple[float, ...] = ()
    texture: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        self.homography.flags.writeable = False

    @property
    def features(self) -> tuple[float, ...]:
        """The fusion inputs, in ``MatchParams.weights`` order.

        Each band's correlation enters as a log coherent SNR, log(r² / (1 − r²)) (see
        the module docstring), which spreads out the values near 1 where genuine captures
        and good copies differ; then the unexplained power spectrum, then the reference's
        texture. ``overlap`` is left out: it spans 0.6–0.88 in the training pairs, all
        of the 0.88 end the identity fallback (no inliers), and a weight fitted to that
        would reward a probe for covering less of the window.
        """
        return (
            float(np.log1p(self.inliers)),
            self.lbp_distance,
            float(np.log(max(self.novelty, _NOVELTY_FLOOR))),
            *(_log_snr(r) for r in self.bands),
            *self.unexplained,
            *self.texture,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """The verdict on a probe against a reference: log-odds ``score`` and ``decision``."""

    score: float
    decision: Decision
    evidence: Evidence
    issues: tuple[QualityIssue, ...]


def match(
    reference: Template,
    probe: Template,
    params: MatchParams = MatchParams(),
    quality: QualityParams = QualityParams(),
) -> Match:
    """Decide whether ``probe`` is a new capture of the item ``reference`` was made from."""
    evidence = compare(reference, probe, params)
    score = score_of(evidence, params)
    issues = assess(probe.quality, quality)
    if reference.located_by_code and not probe.located_by_code:
        issues = (QualityIssue(reason=RetakeReason.NO_CODE, value=0.0, threshold=1.0), *issues)
    return Match(
        score=score, decision=decide(score, issues, params), evidence=evidence, issues=issues
    )


def score_of(evidence: Evidence, params: MatchParams = MatchParams()) -> float:
    """Fused log-odds of a genuine pair."""
    terms = np.dot(params.weights, evidence.features)
    return float(params.bias + terms)


def decide(score: float, issues: tuple[QualityIssue, ...], params: MatchParams) -> Decision:
    """Genuine on strong evidence; never counterfeit on a capture that needs retaking."""
    if score >= params.genuine_at:
        return Decision.GENUINE
    if issues or score >= params.counterfeit_below:
        return Decision.RETAKE
    return Decision.COUNTERFEIT


def compare(reference: Template, probe: Template, params: MatchParams = MatchParams()) -> Evidence:
    """Measure how well ``probe`` agrees with ``reference`` once aligned."""
    ref, pro = reference.features, probe.features
    if ref.residual.shape != pro.residual.shape or ref.lbp.shape != pro.lbp.shape:
        raise TemplateFormatError(
            f"templates were made with different parameters: patch {reference.patch_size} "
            f"vs {probe.patch_size}, LBP {ref.lbp.shape} vs {pro.lbp.shape}"
        )
    q_idx, t_idx, _ = match_descriptors(pro.descriptors, ref.descriptors, params.ratio)
    homography, inliers = _geometry(pro.keypoints[q_idx], ref.keypoints[t_idx], params)
    if inliers < params.min_inliers or (
        reference.located_by_code
        and probe.located_by_code
        and _corner_shift(homography, reference.patch_size) > params.max_corner_shift
    ):
        homography, inliers = np.eye(3), 0
    ref_res = ref.residual.astype(np.float32)
    warped, mask = _warp_to_reference(pro.residual.astype(np.float32), homography)
    bands = _band_correlations(ref_res, warped, mask, params.coherence_bands)
    return Evidence(
        matches=len(q_idx),
        inliers=inliers,
        homography=homography,
        fine=bands.fine,
        coarse=bands.coarse,
        bands=bands.each,
        unexplained=bands.unexplained,
        lbp_distance=_lbp_distance(reference, probe, homography),
        overlap=float(mask.mean()),
        novelty=_spectral_novelty(ref_res, warped),
        texture=tuple(float(v) for v in lbp_log_shares(ref.lbp)),
    )


def _geometry(
    src: NDArray[np.float32], dst: NDArray[np.float32], params: MatchParams
) -> tuple[NDArray[np.float64], int]:
    if len(src) < 4:
        return np.eye(3), 0
    homography, mask = cv2.findHomography(
        src, dst, cv2.USAC_MAGSAC, params.ransac_px, maxIters=2000, confidence=0.999
    )
    if homography is None or mask is None:
        return np.eye(3), 0
    return np.asarray(homography, np.float64), int(mask.sum())


def _corner_shift(homography: NDArray[np.float64], size: int) -> float:
    """Largest displacement of a patch corner under ``homography``, as a share of the side."""
    corners = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float64)
    moved = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), homography).reshape(-1, 2)
    return float(np.max(np.linalg.norm(moved - corners, axis=1)) / size)


def _warp_to_reference(
    probe: NDArray[np.float32], homography: NDArray[np.float64]
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    size = probe.shape[0]
    warped = cv2.warpPerspective(probe, homography, (size, size), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(
        np.ones_like(probe), homography, (size, size), flags=cv2.INTER_NEAREST
    )
    mask = cv2.erode(inside, np.ones((3, 3), np.uint8), iterations=_MARGIN) > 0.5
    mask[:_MARGIN] = mask[-_MARGIN:] = False
    mask[:, :_MARGIN] = mask[:, -_MARGIN:] = False
    return np.asarray(warped, np.float32), mask


@dataclass(frozen=True, slots=True)
class _Bands:
    """Normalised correlations per band and over the coarser and finer half of them, and
    the unexplained power spectrum (see ``Evidence``)."""

    each: tuple[float, ...]
    coarse: float
    fine: float
    unexplained: tuple[float, ...]


def _band_correlations(
    reference: NDArray[np.float32],
    probe: NDArray[np.float32],
    mask: NDArray[np.bool_],
    edges: tuple[float, ...],
) -> _Bands:
    """Normalised correlation of the two residuals over ``mask`` in each frequency band,
    and the probe's unexplained power in each.

    ``edges`` are band limits in cycles per 256 px (scaled to the patch size). Both
    residuals are tapered to zero at the edge of ``mask`` and Fourier transformed; a
    band's correlation is the real part of the cross-spectrum summed over the band over
    the root of the product of the two powers there (Bendat & Piersol 2010, §5.2).
    """
    count = len(edges) - 1
    if mask.sum() < _MIN_OVERLAP_PX:
        return _Bands(each=(0.0,) * count, coarse=0.0, fine=0.0, unexplained=(0.0,) * (count - 1))
    taper = _taper(mask)
    spectra = []
    for residual in (reference, probe):
        tapered = residual * taper
        spectra.append(np.fft.rfft2(tapered - tapered[mask].mean() * taper))
    ref, pro = spectra
    grid = _band_grid(reference.shape[0], edges)
    cross = np.bincount(grid.ravel(), (ref * pro.conj()).real.ravel(), count + 1)[:count]
    ref_power = np.bincount(grid.ravel(), (np.abs(ref) ** 2).ravel(), count + 1)[:count]
    pro_power = np.bincount(grid.ravel(), (np.abs(pro) ** 2).ravel(), count + 1)[:count]

    def correlation(k: slice) -> float:
        denominator = float(np.sqrt(ref_power[k].sum() * pro_power[k].sum()))
        return float(cross[k].sum() / denominator) if denominator > 0 else 0.0

    each = tuple(correlation(slice(k, k + 1)) for k in range(count))
    coherence = np.clip(np.maximum(each, 0.0) ** 2, 0.0, _R2_RANGE[1])
    bins = np.bincount(grid.ravel(), minlength=count + 1)[:count]
    density = np.log(np.maximum((1.0 - coherence) * pro_power / np.maximum(bins, 1), 1e-12))
    half = count // 2
    return _Bands(
        each=each,
        coarse=correlation(slice(0, half)),
        fine=correlation(slice(half, count)),
        unexplained=tuple(float(d) for d in density[:-1] - density[-1]),
    )


def _taper(mask: NDArray[np.bool_]) -> NDArray[np.float32]:
    """Cosine taper: 0 outside ``mask``, rising as sin² over ``_TAPER_PX`` from its edge."""
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    ramp = np.sin(0.5 * np.pi * np.minimum(inside / _TAPER_PX, 1.0)) ** 2
    return np.asarray(ramp, np.float32)


@functools.cache
def _band_grid(size: int, edges: tuple[float, ...]) -> NDArray[np.int64]:
    """Band index of each bin of a (size, size) ``rfft2``; ``len(edges) - 1`` outside all."""
    fy = np.fft.fftfreq(size) * 256
    fx = np.fft.rfftfreq(size) * 256
    radius = np.hypot(fy[:, None], fx[None, :])
    band = np.searchsorted(np.asarray(edges), radius, side="right") - 1
    band[(band < 0) | (band >= len(edges) - 1)] = len(edges) - 1
    grid = np.asarray(band, np.int64)
    grid.flags.writeable = False
    return grid


def _spectral_novelty(reference: NDArray[np.float32], probe: NDArray[np.float32]) -> float:
    """Largest ratio of the probe's whitened power spectrum to the reference's.

    A print copy carries its printer's halftone screen: narrow peaks in the spectrum
    that no capture of the genuine surface has. Each spectrum is smoothed over 3×3 bins
    and divided by its radial mean; frequencies below 6 and above 120 cycles per window
    are ignored (illumination, JPEG blocks, the Nyquist edge).
    """
    grid = _spectral_grid(reference.shape[0])
    ref, pro = _whitened_spectrum(reference, grid), _whitened_spectrum(probe, grid)
    return float(np.max(pro[grid.band] / np.maximum(ref[grid.band], 1.0)))


@dataclass(frozen=True, slots=True)
class _SpectralGrid:
    """Per-size constants of the centred FFT: bin radius, bins per radius, Hann window,
    and the band of radii compared."""

    radius: NDArray[np.int64]
    counts: NDArray[np.float64]
    window: NDArray[np.float32]
    band: NDArray[np.bool_]


@functools.cache
def _spectral_grid(size: int) -> _SpectralGrid:
    half = size // 2
    radius = np.hypot(*np.mgrid[-half : size - half, -half : size - half]).astype(np.int64)
    grid = _SpectralGrid(
        radius=radius,
        counts=np.maximum(np.bincount(radius.ravel()), 1).astype(np.float64),
        window=np.outer(np.hanning(size), np.hanning(size)).astype(np.float32),
        band=(radius >= 6) & (radius <= 120 * size // 256),
    )
    for array in (grid.radius, grid.counts, grid.window, grid.band):
        array.flags.writeable = False
    return grid


def _whitened_spectrum(residual: NDArray[np.float32], grid: _SpectralGrid) -> NDArray[np.float32]:
    power = np.abs(np.fft.fftshift(np.fft.fft2(residual * grid.window))) ** 2
    power = cv2.blur(power.astype(np.float32), (3, 3))
    radial = np.bincount(grid.radius.ravel(), power.ravel()) / grid.counts
    return np.asarray(power / (radial[grid.radius] + 1e-9), np.float32)


def _log_snr(r: float) -> float:
    """log(r² / (1 − r²)) of a band correlation, clipped (a negative r counts as 0)."""
    power = float(np.clip(max(r, 0.0) ** 2, *_R2_RANGE))
    return float(np.log(power / (1.0 - power)))


def _lbp_distance(reference: Template, probe: Template, homography: NDArray[np.float64]) -> float:
    """Mean chi-square distance between each reference cell and the probe cell it maps to."""
    ref_lbp, pro_lbp = reference.features.lbp, probe.features.lbp
    cells = ref_lbp.shape[0]
    side = round(float(np.sqrt(cells)))
    size = reference.patch_size
    step = size / side
    centres = (np.arange(side) + 0.5) * step
    grid = np.array([[x, y] for y in centres for x in centres], np.float64)
    back = cv2.perspectiveTransform(grid.reshape(-1, 1, 2), np.linalg.inv(homography))
    cx, cy = np.floor(back.reshape(-1, 2) / step).astype(int).T
    valid = (cx >= 0) & (cx < side) & (cy >= 0) & (cy < side)
    if not valid.any():
        return 1.0
    distances = lbp_chi2(ref_lbp[valid], pro_lbp[cy[valid] * side + cx[valid]])
    return float(np.mean(distances))
