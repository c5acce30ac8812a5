"""Uniform LBP against its oracle, skimage.feature.local_binary_pattern (bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from skimage.feature import local_binary_pattern

from fingerprint.errors import ImageError
from fingerprint.lbp import lbp_chi2, lbp_histograms, uniform_lbp

STANDARD_SCALES = [(8, 1.0), (16, 2.0), (24, 3.0)]


def skimage_lbp(image: NDArray[np.uint8], P: int, R: float) -> NDArray[np.float64]:
    codes: NDArray[np.float64] = local_binary_pattern(image, P, R, method="uniform")
    return codes


def assert_bit_exact(image: NDArray[np.uint8], P: int, R: float) -> None:
    expected = skimage_lbp(image, P, R)
    got = uniform_lbp(image, P, R)
    assert got.dtype == expected.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


# Images with few grey levels make exact ties between samples and centres, the case where
# a different order of floating-point operations would flip bits.
images = arrays(
    np.uint8,
    st.tuples(st.integers(1, 14), st.integers(1, 14)),
    elements=st.one_of(st.sampled_from([0, 1, 2, 127, 128, 254, 255]), st.integers(0, 255)),
)


@settings(deadline=None, max_examples=300)
@given(image=images, P=st.integers(1, 32), R=st.floats(0.05, 8.0))
def test_bit_exact_for_any_scale(image: NDArray[np.uint8], P: int, R: float) -> None:
    assert_bit_exact(image, P, R)


@settings(deadline=None, max_examples=100)
@given(image=images, scale=st.sampled_from(STANDARD_SCALES))
def test_bit_exact_for_standard_scales(image: NDArray[np.uint8], scale: tuple[int, float]) -> None:
    assert_bit_exact(image, *scale)


@pytest.mark.parametrize(("P", "R"), STANDARD_SCALES)
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (3, 2), (1, 9), (9, 1), (7, 7)])
@pytest.mark.parametrize("value", [0, 255])
def test_bit_exact_on_flat_and_tiny_images(
    shape: tuple[int, int], value: int, P: int, R: float
) -> None:
    assert_bit_exact(np.full(shape, value, dtype=np.uint8), P, R)


@pytest.mark.parametrize(("P", "R"), [*STANDARD_SCALES, (4, 1.5), (12, 5.5)])
def test_bit_exact_on_camera(P: int, R: float) -> None:
    assert_bit_exact(skimage.data.camera(), P, R)


def test_bit_exact_with_radius_beyond_the_image() -> None:
    image = np.random.default_rng(7).integers(0, 256, (5, 6), dtype=np.uint8)
    assert_bit_exact(image, 8, 40.0)


def test_radius_kept_in_double_precision() -> None:
    # 1.000005 rounds to 1.0 in double but to 1.00001 in float32, changing codes here.
    image = np.array([[50] * 5, [50, 100, 100, 10, 50], [50] * 5], dtype=np.uint8)
    assert_bit_exact(image, 4, 1.000005)


def test_non_contiguous_input() -> None:
    image = skimage.data.camera()[::3, ::2]
    assert not image.flags.c_contiguous
    assert_bit_exact(image, 8, 1.0)


def test_codes_are_ones_count_or_non_uniform() -> None:
    codes = uniform_lbp(skimage.data.camera()[:64, :64], 16, 2.0)
    assert set(np.unique(codes)) <= set(range(18))


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((4, 4), dtype=np.float64), "dtype uint8"),
        (np.zeros((4, 4), dtype=np.uint16), "dtype uint8"),
        (np.zeros((4, 4, 3), dtype=np.uint8), "2-D"),
        (np.zeros(4, dtype=np.uint8), "2-D"),
        (np.zeros((0, 4), dtype=np.uint8), "empty"),
        ([[1, 2], [3, 4]], "numpy array"),
    ],
)
def test_rejects_bad_images(image: NDArray[np.uint8], message: str) -> None:
    with pytest.raises(ImageError, match=message):
        uniform_lbp(image, 8, 1.0)
    with pytest.raises(ValueError, match=message):
        lbp_histograms(image)


@pytest.mark.parametrize(
    ("P", "R", "message"),
    [
        (0, 1.0, "P must be an integer >= 1, got 0"),
        (-8, 1.0, "P must be"),
        (8.0, 1.0, "P must be"),
        (True, 1.0, "P must be"),
        (8, 0.0, "R must be a finite number > 0, got 0.0"),
        (8, -1.0, "R must be"),
        (8, float("nan"), "R must be"),
        (8, float("inf"), "R must be"),
        (8, "1", "R must be"),
    ],
)
def test_rejects_bad_scales(P: int, R: float, message: str) -> None:
    image = np.zeros((8, 8), dtype=np.uint8)
    with pytest.raises(ValueError, match=message):
        uniform_lbp(image, P, R)
    with pytest.raises(ValueError, match=message):
        lbp_histograms(image, scales=[(P, R)], grid=(2, 2))


def plain_histograms(
    patch: NDArray[np.uint8], scales: list[tuple[int, float]], grid: tuple[int, int]
) -> NDArray[np.int64]:
    """Cell histograms straight from the definition, with skimage and np.histogram."""
    rows = np.linspace(0, patch.shape[0], grid[0] + 1).astype(int)
    cols = np.linspace(0, patch.shape[1], grid[1] + 1).astype(int)
    codes = [skimage_lbp(patch, P, R) for P, R in scales]
    cells = []
    for y in range(grid[0]):
        for x in range(grid[1]):
            cells.append(
                np.concatenate(
                    [
                        np.histogram(
                            c[rows[y] : rows[y + 1], cols[x] : cols[x + 1]], P + 2, (0, P + 2)
                        )[0]
                        for c, (P, _) in zip(codes, scales, strict=True)
                    ]
                )
            )
    return np.array(cells)


@pytest.mark.parametrize(
    ("shape", "grid"), [((64, 64), (4, 4)), ((37, 50), (3, 5)), ((5, 4), (5, 4)), ((9, 9), (1, 1))]
)
def test_histograms_equal_plain_histograms(shape: tuple[int, int], grid: tuple[int, int]) -> None:
    patch = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    got = lbp_histograms(patch, scales=STANDARD_SCALES, grid=grid)
    assert got.dtype == np.uint16
    assert got.shape == (grid[0] * grid[1], 10 + 18 + 26)
    np.testing.assert_array_equal(got, plain_histograms(patch, STANDARD_SCALES, grid))


@settings(deadline=None, max_examples=50)
@given(
    patch=arrays(np.uint8, st.tuples(st.integers(3, 24), st.integers(3, 24))),
    grid=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    scales=st.lists(st.tuples(st.integers(1, 12), st.floats(0.3, 4.0)), min_size=1, max_size=3),
)
def test_histograms_equal_plain_histograms_for_any_grid(
    patch: NDArray[np.uint8], grid: tuple[int, int], scales: list[tuple[int, float]]
) -> None:
    got = lbp_histograms(patch, scales=scales, grid=grid)
    np.testing.assert_array_equal(got, plain_histograms(patch, scales, grid))


def test_default_histograms_on_camera() -> None:
    patch = skimage.data.camera()[100:356, 100:356]
    got = lbp_histograms(patch)
    np.testing.assert_array_equal(got, plain_histograms(patch, STANDARD_SCALES, (4, 4)))
    np.testing.assert_array_equal(got[:, :10].sum(axis=1), 64 * 64)


@pytest.mark.parametrize(
    ("grid", "message"),
    [((0, 4), "grid must be two positive integers"), ((4,), "grid must"), ([4, 4], "grid must")],
)
def test_histograms_reject_bad_grids(grid: tuple[int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        lbp_histograms(np.zeros((16, 16), dtype=np.uint8), grid=grid)


def test_histograms_reject_patch_smaller_than_grid() -> None:
    with pytest.raises(ImageError, match=r"smaller than the grid \(4, 4\)"):
        lbp_histograms(np.zeros((3, 16), dtype=np.uint8))


def test_histograms_reject_cells_uint16_cannot_count() -> None:
    with pytest.raises(ImageError, match="65536 pixels"):
        lbp_histograms(np.zeros((256, 256), dtype=np.uint8), grid=(1, 1))
    assert lbp_histograms(np.zeros((255, 257), dtype=np.uint8), grid=(1, 1)).max() == 65535


def test_histograms_reject_empty_scales() -> None:
    with pytest.raises(ValueError, match="at least one"):
        lbp_histograms(np.zeros((16, 16), dtype=np.uint8), scales=[])


@pytest.fixture
def camera_histograms() -> tuple[NDArray[np.uint16], NDArray[np.uint16]]:
    image = skimage.data.camera()
    return lbp_histograms(image[:128, :128]), lbp_histograms(image[200:328, 300:428])


def test_chi2_of_identical_histograms_is_zero(
    camera_histograms: tuple[NDArray[np.uint16], NDArray[np.uint16]],
) -> None:
    a, _ = camera_histograms
    distance = lbp_chi2(a, a)
    assert distance.shape == (16,)
    assert distance.dtype == np.float64
    np.testing.assert_array_equal(distance, 0.0)


def test_chi2_is_symmetric_and_bounded(
    camera_histograms: tuple[NDArray[np.uint16], NDArray[np.uint16]],
) -> None:
    a, b = camera_histograms
    np.testing.assert_array_equal(lbp_chi2(a, b), lbp_chi2(b, a))
    assert ((lbp_chi2(a, b) > 0) & (lbp_chi2(a, b) <= 1)).all()


def test_chi2_values() -> None:
    scales = [(2, 1.0), (1, 1.0)]  # blocks of 4 and 3 bins
    a = np.array([[4, 0, 0, 0, 1, 1, 0], [2, 2, 0, 0, 3, 0, 0]], dtype=np.uint16)
    b = np.array([[0, 4, 0, 0, 1, 1, 0], [1, 1, 0, 0, 0, 3, 0]], dtype=np.uint16)
    # Row 0: disjoint first block (1.0), identical second (0.0). Row 1: same shape
    # up to scale (0.0), disjoint (1.0).
    np.testing.assert_allclose(lbp_chi2(a, b, scales=scales), [0.5, 0.5])


def test_chi2_rejects_mismatched_arrays() -> None:
    a = np.ones((4, 54), dtype=np.uint16)
    with pytest.raises(ValueError, match="same shape"):
        lbp_chi2(a, a[:3])
    with pytest.raises(ValueError, match="54 columns"):
        lbp_chi2(a[:, :50], a[:, :50])
    with pytest.raises(ValueError, match="sums to 0"):
        lbp_chi2(a, np.zeros_like(a))
    with pytest.raises(ValueError, match="negative"):
        lbp_chi2(a, -a.astype(np.int32))
