"""Is this capture good enough to fingerprint? Named retake reasons with their evidence.

Measured on the rectified window (what will be fingerprinted), not on the whole frame:
sharpness as the variance of the Laplacian relative to the local contrast (Pech-Pacheco
et al. 2000), exposure and clipping from the histogram, glare as the largest connected
blob of saturated pixels, motion blur as the anisotropy of the structure tensor
(Bigün & Granlund 1987), window size in source pixels.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.params import QualityParams


class RetakeReason(enum.StrEnum):
    """Why a capture cannot be judged; the value is the guidance shown to the user."""

    OUT_OF_FOCUS = "out of focus: hold still and let the camera focus"
    TOO_DARK = "too dark: add light"
    CLIPPED = "overexposed: reduce light or exposure"
    GLARE = "glare: tilt the item away from the light"
    WINDOW_TOO_SMALL = "too far: move closer"
    MOTION_BLUR = "motion blur: hold still"
    OUT_OF_VIEW = "window not fully in view: centre the item"
    NO_CODE = "code not found: bring the item's code into view and focus"
    COPY_UNCLEAR = "cannot tell the surface from a print copy: retake it sharp, in even light"


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityIssue:
    """One failed check: the reason, the measured value and the threshold it crossed."""

    reason: RetakeReason
    value: float
    threshold: float

    def __str__(self) -> str:
        return f"{self.reason.value} (measured {self.value:.3g}, limit {self.threshold:.3g})"


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityMeasures:
    """The raw measurements behind the checks, kept for reports and tuning."""

    sharpness: float
    brightness: float
    clipped: float
    glare: float
    anisotropy: float
    size_px: float
    in_view: float


def measure(patch: NDArray[np.uint8], size_px: float, in_view: float) -> QualityMeasures:
    """Measure a rectified window patch (S, S) uint8 whose side spans ``size_px`` source px."""
    values = patch.astype(np.float32)
    detail = cv2.GaussianBlur(values, (0, 0), 1.0)
    lap = cv2.Laplacian(detail, cv2.CV_32F)
    local = values - cv2.GaussianBlur(values, (0, 0), 4.0)
    contrast = float(np.var(local)) + 1.0
    saturated = (patch >= 250).astype(np.uint8)
    glare = 0.0
    if saturated.any():
        _, _, stats, _ = cv2.connectedComponentsWithStats(saturated, connectivity=8)
        glare = float(stats[1:, cv2.CC_STAT_AREA].max()) / patch.size
    gx = cv2.Sobel(detail, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(detail, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = float(np.mean(gx * gx)), float(np.mean(gy * gy)), float(np.mean(gx * gy))
    root = np.hypot(jxx - jyy, 2 * jxy)
    anisotropy = float(root / (jxx + jyy + 1e-9))
    return QualityMeasures(
        sharpness=float(np.var(lap)) / contrast,
        brightness=float(values.mean()),
        clipped=float(np.mean((patch >= 252) | (patch <= 3))),
        glare=glare,
        anisotropy=anisotropy,
        size_px=size_px,
        in_view=in_view,
    )


def assess(m: QualityMeasures, p: QualityParams = QualityParams()) -> tuple[QualityIssue, ...]:
    """The checks ``m`` fails, most actionable first."""
    checks = (
        (RetakeReason.OUT_OF_VIEW, m.in_view, p.min_in_view, m.in_view < p.min_in_view),
        (RetakeReason.WINDOW_TOO_SMALL, m.size_px, p.min_window_px, m.size_px < p.min_window_px),
        (RetakeReason.TOO_DARK, m.brightness, p.min_brightness, m.brightness < p.min_brightness),
        (RetakeReason.CLIPPED, m.clipped, p.max_clipped, m.clipped > p.max_clipped),
        (RetakeReason.GLARE, m.glare, p.max_glare, m.glare > p.max_glare),
        (RetakeReason.MOTION_BLUR, m.anisotropy, p.max_anisotropy, m.anisotropy > p.max_anisotropy),
        (RetakeReason.OUT_OF_FOCUS, m.sharpness, p.min_sharpness, m.sharpness < p.min_sharpness),
    )
    return tuple(
        QualityIssue(reason=reason, value=value, threshold=limit)
        for reason, value, limit, failed in checks
        if failed
    )
