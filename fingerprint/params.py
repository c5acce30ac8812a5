"""Every tunable number of the engine, in one place.

Each threshold's comment names the run that set it; re-run that command to re-derive it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityParams:
    """Limits of an acceptable capture, on the rectified window.

    Set by hand from what each measure means, then checked with `hallmark eval
    runs/train` (see MatchParams): they flag 2 of the 240 genuine MEDIUM training
    captures (out of focus), while 2.5σ blur, a 10× darker frame or a lost code are flagged
    (tests/fingerprint/test_match.py).
    """

    min_window_px: float = 90.0  # below ~4 px per code module the fibres are not resolved
    min_in_view: float = 0.98  # the window must lie in the frame, not in reflected border
    min_brightness: float = 35.0  # mean grey level: below it, sensor noise dominates texture
    max_clipped: float = 0.05  # share of pixels at 0–3 or 252–255
    max_glare: float = 0.01  # largest saturated blob, as a share of the window
    max_anisotropy: float = 0.6  # structure-tensor coherence: leather reaches 0.5 sharp
    min_sharpness: float = 0.05  # Laplacian energy per local contrast: sharp photo 0.055+


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureParams:
    """How a window becomes features."""

    patch_size: int = 256
    orb_features: int = 800
    orb_fast_threshold: int = 8
    residual_sigma: float = 4.0  # high-pass: patch minus its Gaussian blur at this sigma
    lbp_scales: tuple[tuple[int, float], ...] = ((8, 1.0), (16, 2.0), (24, 3.0))
    lbp_grid: tuple[int, int] = (4, 4)


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchParams:
    """Matching, fusion weights and decision thresholds.

    The score is the log-odds that probe and reference are the same item:
    ``bias + Σ weight·feature`` over the features in ``match.Evidence.features``.
    """

    ratio: float = 0.85
    ransac_px: float = 3.0
    min_inliers: int = 8
    max_corner_shift: float = 0.25  # of the patch side: code-rectified windows barely move
    # Band limits of the residual coherence spectrum, cycles per 256 px, about an octave
    # each: below 4 the residual's high-pass (σ 4 px) leaves little, above 96 a MEDIUM
    # capture's blur and JPEG leave little of the item. Chosen among 2–7 bands on
    # runs/train: four gave the widest print-copy margin there.
    coherence_bands: tuple[float, ...] = (4.0, 12.0, 24.0, 48.0, 96.0)
    # Fusion and thresholds fitted by `hallmark synth runs/train --items 12 --captures 4
    # --seed 100 && hallmark eval runs/train --fit` (2026-11-25; 240 genuine pairs, 2,640
    # other-item, 60 each of copied serial, print copy and twin). Feature order:
    # log1p(inliers), LBP distance, overlap, log(spectral novelty), then the log coherent
    # SNR of each band of `coherence_bands`, coarse to fine.
    weights: tuple[float, ...] = (0.2710, -0.0223, 0.0041, -2.0467, 0.9674, 0.6833, 0.6994, 0.1090)
    bias: float = 4.2712
    genuine_at: float = 3.91  # 3% of genuine training pairs fall below (retake or reject)
    # Between every genuine training pair (lowest +1.76) and every twin (highest -2.64)
    # and other item (highest -12.1); print copies reach +2.31 (a retake, not genuine).
    # Weak evidence is a retake, never a counterfeit.
    counterfeit_below: float = 0.0
