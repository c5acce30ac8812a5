"""The code's frame refined against the true pose of synthetic captures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fingerprint.commitment import Framed, FrameParams, frame_window
from fingerprint.commitment.frame import refine
from fingerprint.image import to_gray
from fingerprint.locate import module_homography, read_code
from fingerprint.quality import RetakeReason
from fingerprint.region import RegionSpec
from fingerprint.synth import SURFACE_PX_PER_MODULE, Material, Tier, capture_with_truth, make_item

WINDOW = RegionSpec().corners()  # module units


def _window_error_px(to_image: np.ndarray, truth: np.ndarray) -> float:
    """Largest distance between the window corners and their true place, in window px."""
    found = cv2.perspectiveTransform(WINDOW.reshape(-1, 1, 2), to_image).reshape(-1, 2)
    true = cv2.perspectiveTransform(WINDOW.reshape(-1, 1, 2), truth).reshape(-1, 2)
    px_per_module = np.linalg.norm(true[1] - true[0]) / RegionSpec().width
    return float(np.linalg.norm(found - true, axis=1).max() / px_per_module * 256 / 22)


@pytest.mark.parametrize("material", [Material.PAPER, Material.LEATHER, Material.PRINT])
def test_refined_frame_puts_the_window_within_a_pixel_and_a_half(material: Material) -> None:
    rng = np.random.default_rng(11)
    item = make_item(rng, material, 0)
    scale = SURFACE_PX_PER_MODULE
    ox, oy = item.code_origin_px
    modules_to_surface = np.array([[scale, 0, ox], [0, scale, oy], [0, 0, 1.0]])
    for _ in range(3):
        shot = capture_with_truth(item, rng, Tier.MEDIUM)
        gray = to_gray(shot.image)
        code = read_code(gray)
        assert code is not None
        refined = refine(gray, code, module_homography(code))
        assert refined is not None and refined[1] >= FrameParams().min_correlation
        assert _window_error_px(refined[0], shot.homography @ modules_to_surface) < 1.5


def test_no_code_in_view_no_frame() -> None:
    texture = np.random.default_rng(0).integers(0, 256, (480, 640)).astype(np.uint8)
    assert frame_window(texture) is None


def test_a_frame_measured_badly_asks_for_a_retake() -> None:
    patch = np.zeros((256, 256), np.uint8)
    limits = FrameParams()
    assert (
        Framed(patch=patch, correlation=0.99, shift_modules=0.5, contrast=150.0).issues(limits)
        == ()
    )
    (low,) = Framed(patch=patch, correlation=0.9, shift_modules=0.5, contrast=150.0).issues(limits)
    (far,) = Framed(patch=patch, correlation=0.99, shift_modules=3.5, contrast=150.0).issues(limits)
    assert low.reason is far.reason is RetakeReason.NO_CODE
    assert (low.value, low.threshold, far.value) == (0.9, limits.min_correlation, 3.5)
