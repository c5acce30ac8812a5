"""The spectral bit code: stable under capture and shift, distinct between items."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

import fingerprint
from fingerprint.bitcode import bitcode, hamming, probe_codes

Scene = Any  # tests/fingerprint/conftest.py's Scene (test folders are not packages)


def _texture(seed: int, size: int = 320) -> NDArray[np.float32]:
    """A random microtexture larger than a window, so windows can be cut at offsets."""
    noise = np.random.default_rng(seed).normal(size=(size, size)).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(noise, (0, 0), 1.2), np.float32)


def _window(texture: NDArray[np.float32], x: int = 0, y: int = 0) -> NDArray[np.int8]:
    patch = texture[y : y + 256, x : x + 256]
    return np.clip(np.rint(patch / patch.std() * 32), -127, 127).astype(np.int8)


def test_code_shapes_and_determinism() -> None:
    residual = _window(_texture(1))
    code = bitcode(residual, 512)
    assert code.n_bits == 512 and code.bits.shape == (64,) and code.margin.shape == (512,)
    assert np.array_equal(code.bits, bitcode(residual.copy(), 512).bits)
    assert np.all(code.margin >= 0) and not code.bits.flags.writeable
    # Bins are taken nearest the origin first: a longer code extends a shorter one.
    assert np.array_equal(bitcode(residual, 256).bits, code.bits[:32])


def test_shifted_window_keeps_its_code_another_texture_does_not() -> None:
    texture = _window(_texture(2), 0, 0)
    same = hamming(bitcode(texture).bits, bitcode(_window(_texture(2), 12, 7)).bits)
    other = hamming(bitcode(texture).bits, bitcode(_window(_texture(3))).bits)
    assert same < 0.15 * 256 < 0.35 * 256 < other


def test_captures_of_one_item_agree(scene: Scene, enrolled: fingerprint.Template) -> None:
    genuine = fingerprint.extract(scene.genuine).features.residual
    impostor = fingerprint.extract(scene.impostor).features.residual
    reference = bitcode(enrolled.features.residual).bits
    assert hamming(reference, bitcode(genuine).bits) < 0.18 * 256
    assert hamming(reference, bitcode(impostor).bits) > 0.3 * 256


def test_probe_codes_recover_rotation_and_scale() -> None:
    residual = _window(_texture(4))
    reference = bitcode(residual).bits
    assert np.array_equal(probe_codes(residual)[0], reference)
    turned = cv2.warpAffine(
        residual.astype(np.float32),
        cv2.getRotationMatrix2D((128, 128), 40, 1.1),
        (256, 256),
        borderMode=cv2.BORDER_REFLECT,
    )
    probe = np.clip(np.rint(turned), -127, 127).astype(np.int8)
    codes = probe_codes(probe, angles_deg=(0.0, 40.0, 80.0), scales=(1.0, 1.1))
    distances = [hamming(c, reference) for c in codes]
    assert int(np.argmin(distances)) == 3  # (40°, ×1.1)
    wrong_angle = distances[:2] + distances[4:]
    assert distances[3] < 0.2 * 256 < 0.35 * 256 < min(wrong_angle)


def test_mask_keeps_the_most_reliable_bits() -> None:
    code = bitcode(_window(_texture(5)), 1024)
    mask = np.unpackbits(code.mask(300)).astype(bool)
    assert mask.sum() == 300
    assert code.margin[mask].min() >= code.margin[~mask].max()
    assert not np.unpackbits(code.mask(0)).any()
    with pytest.raises(ValueError, match="keep must be in 0..1024"):
        code.mask(1025)


@pytest.mark.parametrize(
    ("residual", "n_bits", "message"),
    [
        (np.zeros((256, 256), np.int8), 100, "multiple of 64"),
        (np.zeros((256, 256), np.int8), 8192, "multiple of 64"),
        (np.zeros((256, 128), np.int8), 256, "square int8"),
        (np.zeros((256, 256), np.float32), 256, "square int8"),
    ],
)
def test_bad_input_is_refused(residual: NDArray[np.int8], n_bits: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bitcode(residual, n_bits)
    with pytest.raises(ValueError, match="codes differ in length"):
        hamming(np.zeros(32, np.uint8), np.zeros(64, np.uint8))
