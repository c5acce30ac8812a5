"""The Numba maps against the plain NumPy reference, and what each map means."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fingerprint.hologram.maps import hologram_maps
from fingerprint.hologram.reference import reference_maps
from fingerprint.hologram.segment import segment
from fingerprint.region import RegionSpec

NAMES = ("s_max", "midv", "hue_range", "glint", "orientation")
REGION = RegionSpec()


def ring(n: int, tilt_deg: float = 20.0, distance: float = 200.0) -> np.ndarray:
    """(n, 3) camera centres going once round the window's centre, ``tilt_deg`` off its normal."""
    turn = np.linspace(0, 2 * np.pi, n, endpoint=False)
    reach = distance * np.tan(np.deg2rad(tilt_deg))
    centre = (REGION.x + REGION.width / 2, REGION.y + REGION.height / 2)
    return np.c_[
        centre[0] + reach * np.cos(turn), centre[1] + reach * np.sin(turn), np.full(n, -distance)
    ]


def assert_same(patches: np.ndarray, cameras: np.ndarray) -> None:
    fast, plain = hologram_maps(patches, cameras), reference_maps(patches, cameras)
    for name in NAMES:
        np.testing.assert_allclose(
            getattr(fast, name), getattr(plain, name), atol=1e-6, err_msg=name
        )


@settings(deadline=None, max_examples=25)
@given(
    arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 9), st.just(0), st.just(3))),
    st.floats(0.0, 40.0),
)
def test_kernel_equals_reference(shape_only: np.ndarray, tilt: float) -> None:
    n, size = shape_only.shape[:2]
    rng = np.random.default_rng(n * 100 + size)
    assert_same(rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8), ring(n, tilt))


def test_kernel_equals_reference_on_a_coloured_burst() -> None:
    rng = np.random.default_rng(7)
    assert_same(rng.integers(0, 256, (20, 64, 64, 3), dtype=np.uint8), ring(20))


def test_static_colours_have_no_map_and_one_hue() -> None:
    frame = np.zeros((16, 16, 3), np.uint8)
    frame[..., 2] = 220  # saturated red, the same in every frame
    maps = hologram_maps(np.repeat(frame[None], 10, axis=0), ring(10))
    assert float(maps.s_max.min()) == pytest.approx(1.0)
    assert float(maps.midv.max()) < 1e-6
    assert float(maps.hue_range.max()) == pytest.approx(np.deg2rad(10))  # one 10° bin
    assert float(maps.glint.max()) == 0.0
    assert float(np.abs(maps.orientation).max()) == 0.0
    assert not segment(maps.glint).any()


def test_a_pixel_turning_through_the_rainbow_lights_the_map() -> None:
    hues = np.linspace(0, 179, 12, endpoint=False).astype(np.uint8)
    hsv = np.stack([np.full((12, 12), h, np.uint8) for h in hues])
    frames = [
        np.dstack([plane, np.full_like(plane, 230), np.full_like(plane, 230)]) for plane in hsv
    ]
    patches = np.stack([cv2.cvtColor(f, cv2.COLOR_HSV2BGR) for f in frames])
    maps = hologram_maps(patches, ring(12))
    assert float(maps.midv.min()) > 0.8  # saturated and the unit hue vectors cancel
    assert float(maps.hue_range.min()) > np.deg2rad(300)


@pytest.mark.parametrize("grating_deg", [0.0, 45.0, 90.0, 157.5])
def test_the_orientation_field_points_along_the_grating(grating_deg: float) -> None:
    """A grey foil with a spot that shines only in the two frames whose camera lies
    along ±ĝ: there the field is e^{2iθ}, θ the grating's orientation, and it glints."""
    turn = np.arange(16) * 22.5  # ring(16): the camera's direction seen from the window
    lit = np.isclose(turn % 180, grating_deg)
    assert lit.sum() == 2
    patches = np.full((16, 16, 16, 3), 80, np.uint8)
    patches[np.ix_(lit, range(6, 10), range(6, 10))] = 240
    maps = hologram_maps(patches, ring(16, distance=1e4))  # far: one direction everywhere
    spot = maps.orientation[6:10, 6:10].astype(np.complex128)
    np.testing.assert_allclose(spot, np.exp(2j * np.deg2rad(grating_deg)), atol=0.05)
    assert float(maps.glint[6:10, 6:10].min()) > 1.0  # three channels risen by 0.6 or so


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        hologram_maps(np.zeros((3, 8, 8, 3), np.float32), ring(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one square patch"):
        hologram_maps(np.zeros((0, 8, 8, 3), np.uint8), ring(0))
    with pytest.raises(ValueError, match=r"want cameras \(3, 3\)"):
        hologram_maps(np.zeros((3, 8, 8, 3), np.uint8), ring(4))
