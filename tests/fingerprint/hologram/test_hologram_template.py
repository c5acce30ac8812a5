"""The hologram template's byte format: deterministic, round-trips, rejects bad bytes."""

from __future__ import annotations

import dataclasses
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fingerprint import TemplateFormatError
from fingerprint.hologram import HologramTemplate, extract_hologram
from fingerprint.hologram.template import MAGIC

Bursts = Any  # conftest.py's Bursts (test folders are not packages)


def make(rng: np.random.Generator, size: int = 16, code: str = "SN1") -> HologramTemplate:
    return HologramTemplate(
        code_text=code,
        frames=12,
        sectors=tuple(bool(b) for b in rng.integers(0, 2, 8)),
        max_tilt_deg=float(np.float32(rng.uniform(0, 40))),
        ovd_share=float(np.float32(rng.random())),
        hue_range=float(np.float32(rng.uniform(0, 6))),
        moire=float(np.float32(rng.uniform(1, 50))),
        midv=rng.integers(0, 256, (size, size), dtype=np.uint8),
        orientation=rng.integers(-127, 128, (size, size, 2), dtype=np.int8),
        mask=rng.random((size, size)) < 0.3,
    )


def assert_equal(a: HologramTemplate, b: HologramTemplate) -> None:
    assert (a.code_text, a.frames, a.sectors) == (b.code_text, b.frames, b.sectors)
    assert (a.max_tilt_deg, a.ovd_share, a.hue_range, a.moire) == (
        b.max_tilt_deg,
        b.ovd_share,
        b.hue_range,
        b.moire,
    )
    for name in ("midv", "orientation", "mask"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@settings(deadline=None, max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(8, 40),
    code=st.text(max_size=30),
)
def test_round_trip(seed: int, size: int, code: str) -> None:
    template = make(np.random.default_rng(seed), size, code)
    data = template.to_bytes()
    back = HologramTemplate.from_bytes(data)
    assert_equal(template, back)
    assert back.to_bytes() == data


def test_the_same_burst_gives_the_same_bytes(bursts: Bursts, enrolled: HologramTemplate) -> None:
    again = extract_hologram(bursts.enrol)
    assert again.to_bytes() == enrolled.to_bytes()
    assert again.digest() == enrolled.digest()
    assert len(bytes.fromhex(enrolled.digest())) == 32  # ProductRecord.hologram_sha256


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"HMFP" + d[4:], "not a Hallmark hologram template"),
        (lambda d: d[:4] + struct.pack("<H", 3) + d[6:], "format version 3, this reads 2"),
        (lambda d: d[:4] + struct.pack("<H", 1) + d[6:], "no orientation field: enrol again"),
        (lambda d: d[:-1], "truncated"),
        (lambda d: d + b"\0", "trailing"),
        (lambda d: d[:3], "not a Hallmark hologram template"),
        (lambda d: d[:10] + bytes([17]) + d[11:], "bad tilt sectors"),
        (lambda d: d[:4] + struct.pack("<HH", 2, 4) + d[8:], "patch size 4"),
        (lambda d: b"\0" * (2 << 20), "limit"),
    ],
)
def test_bad_bytes_raise_a_format_error(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = make(np.random.default_rng(1)).to_bytes()
    assert data.startswith(MAGIC)
    with pytest.raises(TemplateFormatError, match=message):
        HologramTemplate.from_bytes(mutate(data))


def test_non_finite_measures_are_refused() -> None:
    data = bytearray(make(np.random.default_rng(2), code="").to_bytes())
    data[15:19] = struct.pack("<f", float("nan"))  # max tilt, right after the header
    with pytest.raises(TemplateFormatError, match="non-finite"):
        HologramTemplate.from_bytes(bytes(data))


def test_an_orientation_field_beyond_its_scale_is_refused() -> None:
    template = make(np.random.default_rng(3), size=8, code="")
    data = bytearray(template.to_bytes())
    data[15 + 16 + 64] = 0x80  # the field's first byte, after header, measures and MIDV map
    with pytest.raises(TemplateFormatError, match="beyond ±127"):
        HologramTemplate.from_bytes(bytes(data))


def test_quantise_round_trips_the_field_to_within_a_step() -> None:
    rng = np.random.default_rng(4)
    field = (rng.uniform(0, 1, (8, 8)) * np.exp(2j * rng.uniform(0, np.pi, (8, 8)))).astype(
        np.complex64
    )
    stored = dataclasses.replace(make(rng, size=8), orientation=HologramTemplate.quantise(field))
    assert np.abs(stored.orientation_field() - field).max() < 1 / 127
