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

NAMES = ("s_max", "midv", "hue_range", "spread", "edges")


def assert_same(patches: np.ndarray) -> None:
    fast, plain = hologram_maps(patches), reference_maps(patches)
    for name in NAMES:
        np.testing.assert_allclose(
            getattr(fast, name), getattr(plain, name), atol=1e-6, err_msg=name
        )


@settings(deadline=None, max_examples=25)
@given(
    arrays(
        np.uint8,
        st.tuples(st.integers(1, 12), st.integers(3, 9), st.integers(3, 9), st.just(3)),
    )
)
def test_kernel_equals_reference(patches: np.ndarray) -> None:
    assert_same(patches)


def test_kernel_equals_reference_on_a_coloured_burst() -> None:
    rng = np.random.default_rng(7)
    assert_same(rng.integers(0, 256, (20, 64, 64, 3), dtype=np.uint8))


def test_static_colours_have_no_map_and_one_hue() -> None:
    frame = np.zeros((16, 16, 3), np.uint8)
    frame[..., 2] = 220  # saturated red, the same in every frame
    maps = hologram_maps(np.repeat(frame[None], 10, axis=0))
    assert float(maps.s_max.min()) == pytest.approx(1.0)
    assert float(maps.midv.max()) < 1e-6
    assert float(maps.hue_range.max()) == pytest.approx(np.deg2rad(10))  # one 10° bin
    assert not segment(maps.midv).any()


def test_a_pixel_turning_through_the_rainbow_lights_the_map() -> None:
    hues = np.linspace(0, 179, 12, endpoint=False).astype(np.uint8)
    hsv = np.stack([np.full((12, 12), h, np.uint8) for h in hues])
    frames = [
        np.dstack([plane, np.full_like(plane, 230), np.full_like(plane, 230)]) for plane in hsv
    ]
    patches = np.stack([cv2.cvtColor(f, cv2.COLOR_HSV2BGR) for f in frames])
    maps = hologram_maps(patches)
    assert float(maps.midv.min()) > 0.8  # saturated and the unit hue vectors cancel
    assert float(maps.hue_range.min()) > np.deg2rad(300)


def test_bad_patch_stacks_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8"):
        hologram_maps(np.zeros((3, 8, 8, 3), np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one patch"):
        hologram_maps(np.zeros((0, 8, 8, 3), np.uint8))
