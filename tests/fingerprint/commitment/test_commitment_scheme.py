import numpy as np
import pytest
from conftest import Residuals

from fingerprint.bitcode import BitCode
from fingerprint.commitment import (
    CommitmentParams,
    EnrolmentError,
    commit,
    commit_to,
    open_commitment,
    open_with,
)
from fingerprint.commitment.code import enrolled_code, selected_bits

PARAMS = CommitmentParams()  # 2 blocks of 508 bits, t = 54 each


def random_code(seed: int) -> BitCode:
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, PARAMS.pool_bits, dtype=np.uint8)
    return BitCode(bits=np.packbits(bits), margin=rng.random(PARAMS.pool_bits, np.float32))


def noisy(bits: np.ndarray, per_block: tuple[int, ...], seed: int) -> np.ndarray:
    """``bits`` with ``per_block[b]`` flips among the positions of interleaved block b."""
    rng, out = np.random.default_rng(seed), bits.copy()
    for block, count in enumerate(per_block):
        positions = np.arange(block, bits.size, PARAMS.blocks)
        out[rng.choice(positions, count, replace=False)] ^= 1
    return out


def test_a_noisy_copy_of_the_code_opens_it_and_gives_the_key() -> None:
    code = random_code(1)
    commitment, key = commit(code, PARAMS)
    reference = selected_bits(code, commitment.mask)
    candidates = np.stack([noisy(reference, (80, 0), 2), noisy(reference, (54, 54), 3)])
    opening = open_commitment(commitment, candidates)
    assert (opening.opened, opening.key, opening.hypothesis, opening.corrected) == (
        True,
        key,
        1,
        108,
    )


def test_one_error_too_many_in_a_block_does_not_open() -> None:
    code = random_code(4)
    commitment, _ = commit(code, PARAMS)
    reference = selected_bits(code, commitment.mask)
    assert not open_commitment(commitment, noisy(reference, (0, 55), 5)[None]).opened


def test_another_code_does_not_open() -> None:
    commitment, _ = commit(random_code(6), PARAMS)
    others = np.stack([selected_bits(random_code(s), commitment.mask) for s in range(7, 27)])
    assert not open_commitment(commitment, others).opened


def test_same_code_new_salt_new_key_and_bytes() -> None:
    code = random_code(8)
    (first, key1), (second, key2) = commit(code, PARAMS), commit(code, PARAMS)
    assert key1 != key2 and first.to_bytes() != second.to_bytes()
    assert np.array_equal(first.mask, second.mask)


def test_mask_keeps_the_most_reliable_bits() -> None:
    code = random_code(9)
    commitment, _ = commit(code, PARAMS)
    chosen = np.unpackbits(commitment.mask).astype(bool)
    assert chosen.sum() == PARAMS.code_bits
    assert code.margin[chosen].min() >= code.margin[~chosen].max()


def test_bits_that_flipped_at_enrolment_rank_below_stable_ones() -> None:
    rng = np.random.default_rng(10)
    first = rng.integers(-100, 101, (64, 64)).astype(np.int8)
    second = first.copy()
    second[10:20, 10:20] = rng.integers(-100, 101, (10, 10))
    single, pair = enrolled_code([first], 256), enrolled_code([first, second], 256)
    flipped = np.unpackbits(single.bits) != np.unpackbits(enrolled_code([second], 256).bits)
    assert flipped.any() and (~flipped).any()
    assert pair.margin[flipped].max() < pair.margin[~flipped].min()


def test_enrolment_needs_captures_of_one_size() -> None:
    with pytest.raises(EnrolmentError, match="at least one"):
        enrolled_code([])
    with pytest.raises(EnrolmentError, match="window size"):
        enrolled_code([np.zeros((64, 64), np.int8), np.zeros((128, 128), np.int8)])


def test_code_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="code has 256 bits"):
        commit(BitCode(bits=np.zeros(32, np.uint8), margin=np.zeros(256, np.float32)))


def test_a_new_capture_of_the_item_opens_another_item_does_not(residuals: Residuals) -> None:
    commitment, key = commit_to(residuals.enrol)
    genuine = open_with(commitment, residuals.genuine)
    assert genuine.opened and genuine.key == key
    assert genuine.corrected is not None and 0 < genuine.corrected <= 2 * 54
    assert not open_with(commitment, residuals.other).opened
