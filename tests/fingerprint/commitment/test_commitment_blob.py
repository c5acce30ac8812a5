import hashlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fingerprint.commitment import (
    Commitment,
    CommitmentFormatError,
    CommitmentParams,
    commit,
    open_commitment,
)
from fingerprint.commitment.code import band_size, enrol
from fingerprint.commitment.scheme import MAGIC

PARAMS = CommitmentParams()
POOL = band_size(PARAMS.shortest_px, PARAMS.longest_px)  # 3,404: 4 padding bits in the mask
RNG = np.random.default_rng(3)
VALUES = RNG.normal(size=POOL).astype(np.float32)
CODE = enrol([VALUES])
LEVEL = -100 / 32  # stored as the byte 100
COMMITMENT, KEY = commit(CODE, PARAMS, level=LEVEL, secret=bytes(range(16)), salt=b"s" * 16)
DATA = COMMITMENT.to_bytes()
SHORT = CommitmentParams(repeat=1, blocks=1, t=24)  # 228 bits: 4 padding bits of helper data
DATA1 = commit(CODE, SHORT, level=LEVEL, secret=bytes(8), salt=b"s" * 16)[0].to_bytes()
LEVEL_AT, SALT_AT, CHECK_AT, MASK_AT, HELPER_AT = 13, 14, 30, 62, 62 + 426
DATA_DIR = Path(__file__).parent / "data"
VERSION_1 = (DATA_DIR / "commitment_v1.bin").read_bytes()
"""A real commitment of format version 1 (spectral code), made by the code before it."""
VERSION_2 = (DATA_DIR / "commitment_v2.bin").read_bytes()
"""A real commitment of format version 2 (no texture level), made by the code before it."""


def test_layout_and_round_trip() -> None:
    assert len(DATA) == HELPER_AT + 1392 // 8 == 662
    assert DATA[:4] == MAGIC and DATA[4:14] == bytes([3, 0, 7, 16, 3, 8, 26, 8, 2, 100])
    assert DATA[SALT_AT:CHECK_AT] == b"s" * 16
    again = Commitment.from_bytes(DATA)
    assert again.to_bytes() == DATA and again.params == PARAMS
    assert again.texture_level == LEVEL
    assert again.digest() == hashlib.sha256(DATA).hexdigest()
    assert open_commitment(again, VALUES).key == KEY


def test_same_inputs_same_bytes() -> None:
    again = commit(CODE, PARAMS, level=LEVEL, secret=bytes(range(16)), salt=b"s" * 16)[0]
    assert again.to_bytes() == DATA


@pytest.mark.parametrize("level", [0.0, -1 / 32, -255 / 32])
def test_every_level_on_the_grid_round_trips(level: float) -> None:
    commitment = commit(CODE, PARAMS, level=level)[0]
    assert Commitment.from_bytes(commitment.to_bytes()).texture_level == level


@pytest.mark.parametrize("level", [0.01, -3.01, -8.0, 1.0])
def test_a_level_off_the_stored_grid_is_refused(level: float) -> None:
    with pytest.raises(ValueError, match="texture level must be a multiple"):
        commit(CODE, PARAMS, level=level)


def test_a_version_1_commitment_is_refused_with_the_reason() -> None:
    assert VERSION_1[:6] == MAGIC + b"\x01\x00" and len(VERSION_1) == 442
    with pytest.raises(CommitmentFormatError, match=r"version 1 \(the spectral code\).*re-enrol"):
        Commitment.from_bytes(VERSION_1)


def test_a_version_2_commitment_is_refused_with_the_reason() -> None:
    assert VERSION_2[:6] == MAGIC + b"\x02\x00" and len(VERSION_2) == 661
    reason = r"version 2 \(no texture level: print copies .*reads 3: re-enrol the item"
    with pytest.raises(CommitmentFormatError, match=reason):
        Commitment.from_bytes(VERSION_2)


def _set(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value) :]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a Hallmark commitment"),
        (b"HMFP" + DATA[4:], "not a Hallmark commitment"),
        (_set(DATA, 4, b"\x04\x00"), "version 4, this reads 3"),
        (DATA[:10], "truncated: 10 bytes, the header alone is 14"),
        (_set(DATA, 6, b"\x00"), "shortest_px must be an integer in 1..255, got 0"),
        (_set(DATA, 7, b"\x06"), "want 2 ≤ shortest_px < longest_px"),
        (_set(DATA, 8, b"\x00"), "repeat must be"),
        (_set(DATA, 9, b"\x04"), "m=4"),
        (_set(DATA, 10, b"\x00"), "t=0"),
        (_set(DATA, 11, b"\x0b"), r"room for 1\.\.10 message bytes"),
        (_set(DATA, 12, b"\x00"), "blocks must be"),
        (_set(DATA, 8, b"\x04"), "truncated"),
        (DATA[:-1], "truncated"),
        (DATA + b"\x00", "trailing"),
        (_set(DATA, MASK_AT, bytes([DATA[MASK_AT] ^ 0x01])), "mask selects"),
        (_set(DATA, HELPER_AT - 1, bytes([DATA[HELPER_AT - 1] | 0x01])), "mask has padding"),
        (_set(DATA1, len(DATA1) - 1, bytes([DATA1[-1] | 0x0F])), "helper data has padding"),
    ],
)
def test_corrupt_bytes_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(CommitmentFormatError, match=message):
        Commitment.from_bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700))
def test_arbitrary_bytes_parse_or_raise_the_format_error(data: bytes) -> None:
    for candidate in (data, MAGIC + data, DATA[:14] + data):
        try:
            parsed = Commitment.from_bytes(candidate)
        except CommitmentFormatError:
            continue
        assert parsed.to_bytes() == candidate


@settings(max_examples=200, deadline=None)
@given(at=st.integers(0, len(DATA) - 1), flip=st.integers(1, 255))
def test_a_flipped_byte_is_refused_or_changes_the_digest(at: int, flip: int) -> None:
    tampered = _set(DATA, at, bytes([DATA[at] ^ flip]))
    try:
        parsed = Commitment.from_bytes(tampered)
    except CommitmentFormatError:
        return
    assert parsed.to_bytes() == tampered and parsed.digest() != COMMITMENT.digest()
    if SALT_AT <= at < MASK_AT:  # salt or check: the enrolled values no longer open it
        assert not open_commitment(parsed, VALUES).opened
