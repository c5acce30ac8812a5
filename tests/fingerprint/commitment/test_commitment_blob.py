import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fingerprint.bitcode import BitCode
from fingerprint.commitment import (
    Commitment,
    CommitmentFormatError,
    CommitmentParams,
    commit,
    open_commitment,
)
from fingerprint.commitment.code import selected_bits
from fingerprint.commitment.scheme import MAGIC

PARAMS = CommitmentParams()
RNG = np.random.default_rng(3)
CODE = BitCode(
    bits=np.packbits(RNG.integers(0, 2, 2048, dtype=np.uint8)),
    margin=RNG.random(2048, np.float32),
)
COMMITMENT, KEY = commit(CODE, PARAMS, secret=bytes(range(34)), salt=b"s" * 16)
DATA = COMMITMENT.to_bytes()
ONE_BLOCK = commit(CODE, CommitmentParams(blocks=1), secret=bytes(17), salt=b"s" * 16)[0]
DATA1 = ONE_BLOCK.to_bytes()  # 508 bits of helper data: 4 padding bits
SALT_AT, CHECK_AT, MASK_AT, HELPER_AT = 11, 27, 59, 59 + 256


def test_layout_and_round_trip() -> None:
    assert len(DATA) == HELPER_AT + 127
    assert DATA[:4] == MAGIC and DATA[SALT_AT:CHECK_AT] == b"s" * 16
    again = Commitment.from_bytes(DATA)
    assert again.to_bytes() == DATA and again.params == PARAMS
    assert again.digest() == hashlib.sha256(DATA).hexdigest()


def test_same_inputs_same_bytes() -> None:
    assert commit(CODE, PARAMS, secret=bytes(range(34)), salt=b"s" * 16)[0].to_bytes() == DATA


def _set(data: bytes, at: int, value: bytes) -> bytes:
    return data[:at] + value + data[at + len(value) :]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a Hallmark commitment"),
        (b"HMFP" + DATA[4:], "not a Hallmark commitment"),
        (_set(DATA, 4, b"\x02\x00"), "version 2"),
        (_set(DATA, 6, b"\x30\x00"), "pool_bits must be a multiple"),
        (_set(DATA, 8, b"\x04"), "m=4"),
        (_set(DATA, 9, b"\x00"), "t=0"),
        (_set(DATA, 10, b"\x05"), "more than the pool"),
        (DATA[:-1], "truncated"),
        (DATA + b"\x00", "trailing"),
        (_set(DATA, MASK_AT, bytes([DATA[MASK_AT] ^ 0x01])), "mask selects"),
        (_set(DATA1, len(DATA1) - 1, bytes([DATA1[-1] | 0x0F])), "padding bits"),
    ],
)
def test_corrupt_bytes_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(CommitmentFormatError, match=message):
        Commitment.from_bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_parse_or_raise_the_format_error(data: bytes) -> None:
    for candidate in (data, MAGIC + data, DATA[:10] + data):
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
    if SALT_AT <= at < MASK_AT:  # salt or check: the genuine code no longer opens it
        bits = selected_bits(CODE, COMMITMENT.mask)[None]
        assert not open_commitment(parsed, bits).opened
