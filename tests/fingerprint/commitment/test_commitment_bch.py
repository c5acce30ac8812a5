import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fingerprint.commitment.bch import MAX_T, BchCode

CODE = BchCode(9, 54, 17)


def test_layout_of_the_default_code() -> None:
    assert (CODE.data_bytes, CODE.ecc_bits, CODE.block_bits) == (17, 372, 508)


@settings(deadline=None, max_examples=40)
@given(
    data=st.binary(min_size=17, max_size=17),
    seed=st.integers(0, 2**32 - 1),
    errors=st.integers(0, 54),
)
def test_up_to_t_errors_are_corrected(data: bytes, seed: int, errors: int) -> None:
    word = CODE.encode(data)
    flips = np.random.default_rng(seed).choice(CODE.block_bits, errors, replace=False)
    word[flips] ^= 1
    assert CODE.decode(word) == (data, errors)


@settings(deadline=None, max_examples=40)
@given(
    data=st.binary(min_size=17, max_size=17),
    seed=st.integers(0, 2**32 - 1),
    extra=st.integers(1, 100),
)
def test_more_than_t_errors_never_give_back_the_message(data: bytes, seed: int, extra: int) -> None:
    word = CODE.encode(data)
    word[np.random.default_rng(seed).choice(CODE.block_bits, 54 + extra, replace=False)] ^= 1
    decoded = CODE.decode(word)
    assert decoded is None or decoded[0] != data


def test_codeword_is_systematic_bits() -> None:
    data = bytes(range(17))
    word = CODE.encode(data)
    assert word.shape == (508,) and set(np.unique(word)) <= {0, 1}
    assert np.packbits(word[:136]).tobytes() == data


@pytest.mark.parametrize(("m", "t"), [(4, 10), (16, 10), (9, 0), (9, MAX_T + 1), (5, 40)])
def test_bad_parameters_are_refused(m: int, t: int) -> None:
    with pytest.raises(ValueError, match=r"m=|no room|bchlib"):
        BchCode(m, t, 1)


def test_wrong_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="want 17 message bytes"):
        CODE.encode(b"short")
    with pytest.raises(ValueError, match="want 508 bits"):
        CODE.decode(np.zeros(500, np.uint8))


def test_a_shortened_code_corrects_up_to_t_errors() -> None:
    short = BchCode(8, 26, 8)  # the commitment's default blocks
    assert (short.ecc_bits, short.block_bits) == (168, 232)
    word = short.encode(bytes(range(8)))
    word[np.random.default_rng(1).choice(232, 26, replace=False)] ^= 1
    assert short.decode(word) == (bytes(range(8)), 26)


def test_more_message_bytes_than_the_code_has_room_for_are_refused() -> None:
    with pytest.raises(ValueError, match=r"room for 1\.\.17 message bytes, got data_bytes=18"):
        BchCode(9, 54, 18)
