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
    # Band limits of the residual coherence spectrum, cycles per 256 px: one band below
    # 4 (few Fourier bins there), an octave to 8, then half-octaves to 96 (above 96 a
    # MEDIUM capture's blur and JPEG leave little of the item). Chosen on runs/issue2/train
    # and checked on runs/issue2/dev (seed 300) among octave, half- and third-octave sets
    # starting at 1, 2 or 4: half-octaves from 1 gave the widest print-copy margin on both
    # (the 1–4 band sees a copy's mottle and stock; half-octaves split off the halftone).
    coherence_bands: tuple[float, ...] = (1.0, 4.0, 8.0, 12.0, 17.0, 24.0, 34.0, 48.0, 68.0, 96.0)
    # Fusion and thresholds fitted by `hallmark synth runs/issue2/train20 --items 20
    # --captures 5 --print-copies 10 --seed 100 && hallmark eval runs/issue2/train20 --fit`
    # (2026-12-07; 500 genuine pairs, 100 copied serials, 1,000 print copies, 100 twins;
    # the 9,500 other-item pairs are scored but left out of the fit), checked on
    # runs/issue2/val (seed 300). Feature order (`match.Evidence.features`): log1p(inliers),
    # LBP distance, log(spectral novelty); the log coherent SNR of each band of
    # `coherence_bands`, coarse to fine; the unexplained power of each band but the
    # finest relative to the finest; the reference's texture, the log share of each LBP
    # code at scales (8, 1), (16, 2), (24, 3) (10, 18, 26 codes).
    weights: tuple[float, ...] = (
        0.8475, -0.0429, -2.0753,
        0.8156, 1.2119, 0.7489, 0.8553, 0.8822, 0.3470, -0.1953, -0.0120, 0.0406,
        0.4822, -0.4707, -0.4545, -0.3943, -0.3449, 1.2373, -0.4383, -1.0921,
        -0.1173, 0.4607, -0.5845, -4.6897, 0.0256, 2.4845, 3.4411, 0.8889, 1.8261, 1.8041,
        -0.0923, 0.0703, -0.5979, -2.2277, -0.9000, 1.0515, 0.7138, 0.6102, 0.6453,
        0.6581, 0.8202, 1.3066, 2.2615, -0.2040, 1.2830, -0.1122, -0.3478, 0.2043,
        -1.3882, 1.6178, -0.1881, 1.6744, -1.4387, -1.1554, -0.7906, -0.5234, -0.3483,
        -0.4385, -0.4381, -0.2808, -0.0104, 0.0047, -0.1535, -0.0248, 0.1246, 0.0667,
        -0.6271, -0.2699, 0.3273, 0.8146, 0.6072, 0.7430, 0.1925, 0.0036,
    )  # fmt: skip
    bias: float = 19.3826
    # Halfway between the lowest genuine training pair (+1.69) and the highest training
    # attack (a print copy, -1.37; twins -2.86 and below, copied serials -32.7 and below).
    genuine_at: float = 0.16
    # The highest training attack: a score between it and `genuine_at`, where the training
    # pairs give no evidence either way, is a retake. Weak evidence is never a counterfeit.
    counterfeit_below: float = -1.37
