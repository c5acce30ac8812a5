"""Sub-pixel registration on the code's ideal picture (ECC)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fingerprint.hologram.code_model import CodeModel, read_modules, refine

MODULES = (22, 22)


def scene(dark: np.ndarray, to_image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A grey photograph of the code: drawn at 8 px per module, warped, dimmed, noisy."""
    model = CodeModel.draw(dark, 8)
    size = (320, 240)
    image = cv2.warpPerspective(
        model.image, to_image @ model.to_modules(), size, borderValue=(255,)
    ).astype(np.float32)
    image = 40 + 0.7 * image + rng.normal(0, 4, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def homography(shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Module units → image pixels: 7 px per module, a slight turn and perspective."""
    h = np.array([[7.0, 0.6, 60.0], [-0.5, 6.8, 40.0], [4e-4, -3e-4, 1.0]])
    return np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1]]) @ h


def corner_error(a: np.ndarray, b: np.ndarray) -> float:
    corners = np.array([[0, 0], [48, 0], [48, 22], [0, 22]], np.float64).reshape(-1, 1, 2)
    pa, pb = cv2.perspectiveTransform(corners, a), cv2.perspectiveTransform(corners, b)
    return float(np.abs(pa - pb).max())


@pytest.fixture
def dark() -> np.ndarray:
    return np.random.default_rng(1).random(MODULES) < 0.5


def test_the_module_pattern_is_read_back(dark: np.ndarray) -> None:
    image = scene(dark, homography(), np.random.default_rng(2))
    np.testing.assert_array_equal(read_modules(image, homography((0.8, -0.6)), MODULES), dark)


def test_refine_recovers_the_homography_from_a_pixel_off(dark: np.ndarray) -> None:
    """Off by up to 1.5 px where the window lies (48 modules out), back to 0.1 px."""
    truth = homography()
    image = scene(dark, truth, np.random.default_rng(3))
    guess = homography((1.0, -0.7))
    assert corner_error(guess, truth) > 0.9
    refined = refine(image, guess, CodeModel.draw(dark, 7))
    assert refined is not None
    assert corner_error(refined, truth) < 0.1


def test_refine_gives_up_where_there_is_no_code(dark: np.ndarray) -> None:
    blank = np.full((240, 320), 128, np.uint8)
    assert refine(blank, homography(), CodeModel.draw(dark, 7)) is None


def test_a_model_needs_two_px_per_module(dark: np.ndarray) -> None:
    with pytest.raises(ValueError, match="px ≥ 2"):
        CodeModel.draw(dark, 1)
