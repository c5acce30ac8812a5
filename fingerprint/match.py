"""Compare two templates: align, correlate, fuse into one calibrated score, decide.

1. Descriptor matches: Hamming distance, Lowe's ratio test and cross-check in one pass.
2. Geometry: a homography probe → reference by MAGSAC++ (Barath et al. 2020) through
   ``cv2.findHomography(..., cv2.USAC_MAGSAC)``; windows located by the same code land
   within a few pixels of each other, so an implausible homography is dropped for the
   identity.
3. On the aligned overlap: normalised correlation of two bands of the noise residuals,
   the chi-square distance of the LBP histograms of corresponding cells, and the
   strongest spectral peak the probe has and the reference lacks (a print copy's
   halftone screen).
4. Logistic fusion of those measurements into the log-odds that both captures show the
   same item; thresholds on it give genuine / retake / counterfeit.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.errors import TemplateFormatError
from fingerprint.hamming import match_descriptors
from fingerprint.lbp import lbp_chi2
from fingerprint.params import MatchParams, QualityParams
from fingerprint.quality import QualityIssue, RetakeReason, assess
from fingerprint.template import Template

_FINE_SIGMA = 1.5
_MARGIN = 8


class Decision(enum.StrEnum):
    GENUINE = "genuine"
    COUNTERFEIT = "counterfeit"
    RETAKE = "retake"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What the score was computed from.

    ``homography`` maps probe patch coordinates to reference patch coordinates (3, 3).
    ``fine`` and ``coarse`` are normalised correlations of the aligned residual bands;
    ``lbp_distance`` is the mean chi-square distance of corresponding LBP cells;
    ``overlap`` is the share of the reference window the aligned probe covers;
    ``novelty`` is the strongest spectral peak of the aligned probe's residual that the
    reference lacks (whitened power ratio): a halftone screen from a print copy.
    """

    matches: int
    inliers: int
    homography: NDArray[np.float64] = field(repr=False)
    fine: float
    coarse: float
    lbp_distance: float
    overlap: float
    novelty: float

    def __post_init__(self) -> None:
        self.homography.flags.writeable = False

    @property
    def features(self) -> tuple[float, ...]:
        """The fusion inputs, in ``MatchParams.weights`` order.

        Correlations enter through Fisher's z = atanh(r), which spreads out the values
        near 1 where genuine captures and good copies differ.
        """
        return (
            float(np.log1p(self.inliers)),
            _fisher_z(self.fine),
            _fisher_z(self.coarse),
            self.lbp_distance,
            self.overlap,
            float(np.log(self.novelty)),
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
    fine, coarse = _band_correlations(ref_res, warped, mask)
    return Evidence(
        matches=len(q_idx),
        inliers=inliers,
        homography=homography,
        fine=fine,
        coarse=coarse,
        lbp_distance=_lbp_distance(reference, probe, homography),
        overlap=float(mask.mean()),
        novelty=_spectral_novelty(ref_res, warped),
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


def _band_correlations(
    reference: NDArray[np.float32], probe: NDArray[np.float32], mask: NDArray[np.bool_]
) -> tuple[float, float]:
    """Normalised correlation of the fine band and the coarse band over ``mask``."""
    if mask.sum() < 64:
        return 0.0, 0.0
    ref_coarse = cv2.GaussianBlur(reference, (0, 0), _FINE_SIGMA)
    pro_coarse = cv2.GaussianBlur(probe, (0, 0), _FINE_SIGMA)
    fine = _ncc(reference - ref_coarse, probe - pro_coarse, mask)
    return fine, _ncc(ref_coarse, pro_coarse, mask)


def _ncc(a: NDArray[np.float32], b: NDArray[np.float32], mask: NDArray[np.bool_]) -> float:
    x = a[mask].astype(np.float64)
    y = b[mask].astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    denominator = float(np.sqrt(np.dot(x, x) * np.dot(y, y)))
    return float(np.dot(x, y) / denominator) if denominator > 0 else 0.0


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


def _fisher_z(r: float) -> float:
    return float(np.arctanh(np.clip(r, -0.995, 0.995)))


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
