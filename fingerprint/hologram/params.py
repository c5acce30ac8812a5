"""Every tunable number of the hologram engine, in one place.

Each threshold's comment names the run that set it; re-run that command to re-derive it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class BurstParams:
    """What a tilt burst must hold."""

    min_frames: int = 10
    max_frames: int = 60
    min_side: int = 240  # px: below it the code's modules blur into each other


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationParams:
    """Frame-to-frame registration and the camera assumed for tilt estimates."""

    patch_size: int = 128  # the window is rectified to this many px a side
    focal_per_width: float = 0.9  # phone main cameras: 60–70° across the long side
    max_points: int = 64  # corners tracked on the code and its quiet zone
    min_track_module_px: float = 4.0  # frames are tracked halved while modules stay this big
    min_points: int = 16  # below this many tracked corners a frame is dropped
    max_fb_error_px: float = 1.0  # forward–backward optical-flow consistency


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageParams:
    """How much of the tilt circle a burst must sweep.

    The tilt direction is binned into ``sectors``; a sector counts once a frame views
    the window at least ``min_tilt_deg`` off its normal in that direction.
    """

    sectors: int = 8
    min_tilt_deg: float = 6.0
    min_sectors: int = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class MapParams:
    """Per-pixel maps and the segmentation of the optically variable area."""

    min_value: float = 0.12  # HSV value below which saturation is unreliable (set to 0)
    hue_saturation: float = 0.2  # a frame's hue counts towards the hue range above this
    # Measured on runs/holo-train (`hallmark holo synth runs/holo-train --items 30 --seed 100`),
    # map smoothed σ 1.5: genuine windows have 27–92% above 0.05, print copies 0%, screens ≤ 13%.
    ovd_threshold: float = 0.05  # MIDV-Holo map level of the optically variable area
    margin: int = 4  # patch px ignored at the window's edges


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessParams:
    """Liveness thresholds on the burst's measures."""

    # 20 items of the same run: genuine bursts' OVD share 0.08 and up, printed copies
    # 0.03 and below (screens: 0 without moiré, up to 0.86 with shifting fringes).
    min_ovd_share: float = 0.05  # optically variable share of the window
    # Whitened spectral peak on 20 training items: genuine ≤ 11.4, printed copies ≤ 9.7,
    # generic film ≤ 21, screens 5.6–64 (a screen without moiré is caught as static);
    # a margin over the printed copies, whose JPEG blocks can peak too.
    # Static colours with a peak above screen_moire are a screen; a peak above max_moire
    # is a screen whatever the colours do (moiré fringes shift with the angle).
    screen_moire: float = 12.0
    max_moire: float = 25.0


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityParams:
    """Identity fusion and decision thresholds (log-odds of the same hologram)."""

    ratio: float = 0.85
    ransac_px: float = 2.0
    min_inliers: int = 8
    max_corner_shift: float = 0.08  # share of the patch side: code-registered maps barely move
    # Fusion fitted (fingerprint.calibrate.fit_fusion) on 20 items of runs/holo-train
    # (`hallmark holo synth runs/holo-train --items 30 --seed 100`): 40 genuine pairs,
    # 760 other-item pairs, 20 generic films. Features: z(edge correlation),
    # log(1 + keypoints in place). Genuine pairs scored 0.1 and up, films −2.6 and down,
    # other items up to 1.3 (99% below −0.3): genuine_at sits above every other item,
    # and weak evidence between the two thresholds is a retake.
    weights: tuple[float, ...] = (9.8076, 1.7804)
    bias: float = -6.8295
    genuine_at: float = 1.5
    counterfeit_below: float = -0.5


@dataclass(frozen=True, slots=True, kw_only=True)
class HologramParams:
    """All hologram parameters together."""

    burst: BurstParams = BurstParams()
    registration: RegistrationParams = RegistrationParams()
    coverage: CoverageParams = CoverageParams()
    maps: MapParams = MapParams()
    liveness: LivenessParams = LivenessParams()
    identity: IdentityParams = IdentityParams()
