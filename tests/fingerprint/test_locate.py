import cv2
import numpy as np
import pytest

from fingerprint.image import to_gray
from fingerprint.locate import locate
from fingerprint.region import RegionSpec
from fingerprint.synth import Material, Tier, capture_with_truth, make_item
from fingerprint.synth.label import module_to_surface


@pytest.mark.parametrize("seed", range(6))
def test_window_corners_land_where_the_truth_puts_them(seed: int) -> None:
    rng = np.random.default_rng(seed)
    item = make_item(rng, Material.PLASTIC, seed)
    shot = capture_with_truth(item, rng, Tier.MEDIUM)
    window = locate(to_gray(shot.image))
    assert window.code is not None
    assert window.code.gs1 is not None
    assert window.code.text == item.gs1
    assert window.code.modules == (22, 22)
    truth_surface = module_to_surface(RegionSpec().corners())
    truth = cv2.perspectiveTransform(truth_surface.reshape(-1, 1, 2), shot.homography)
    size = window.patch.shape[0]
    patch_corners = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float64)
    found = cv2.perspectiveTransform(patch_corners.reshape(-1, 1, 2), window.to_image)
    error = np.linalg.norm(found - truth, axis=2).max()
    assert error < 0.04 * window.size_px  # within a few pixels, wherever the code sits
    assert window.in_view == 1.0


def test_without_a_code_the_whole_image_is_the_window() -> None:
    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.normal(128, 40, (300, 400)).astype(np.float32), (0, 0), 1.5)
    gray = np.clip(texture, 0, 255).astype(np.uint8)
    window = locate(gray, patch_size=128)
    assert window.code is None
    assert window.patch.shape == (128, 128)
    assert window.size_px == pytest.approx(np.sqrt(300 * 400))
    assert window.in_view == 1.0


def test_a_window_off_the_frame_is_reported() -> None:
    rng = np.random.default_rng(4)
    item = make_item(rng, Material.PAPER, 0)
    gray = to_gray(capture_with_truth(item, rng, Tier.EASY).image)
    far_right = RegionSpec(x=200.0, y=0.0, width=22.0, height=22.0)
    assert locate(gray, far_right).in_view < 0.5
