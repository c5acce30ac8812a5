import numpy as np
import pytest

from fingerprint.commitment import (
    CommitmentParams,
    EnrolmentError,
    commit,
    commit_to,
    open_commitment,
    open_with,
)
from fingerprint.commitment.code import Enrolled, band_size, band_values, enrol
from fingerprint.commitment.scheme import outer_sums

PARAMS = CommitmentParams()  # 3 × 2 blocks of 232 bits, t = 26 each
LEVEL = -3.0  # a texture level on the stored grid
POOL = band_size(PARAMS.shortest_px, PARAMS.longest_px)


def random_code(seed: int) -> tuple[Enrolled, np.ndarray]:
    """A code and values (P,) that give exactly its signs, with magnitudes 0.5–1.5."""
    rng = np.random.default_rng(seed)
    signs = rng.integers(0, 2, POOL).astype(bool)
    values = np.where(signs, 1.0, -1.0) * rng.uniform(0.5, 1.5, POOL)
    return enrol([values.astype(np.float32)]), values.astype(np.float32)


def with_outer_errors(
    commitment_mask: np.ndarray, values: np.ndarray, per_block: tuple[int, ...]
) -> np.ndarray:
    """``values`` with every copy of ``per_block[b]`` outer bits of block b reversed."""
    out, rng = values.copy(), np.random.default_rng(sum(per_block))
    positions = np.flatnonzero(commitment_mask)
    outer = np.arange(PARAMS.code_bits) % PARAMS.outer_bits
    for block, count in enumerate(per_block):
        for g in rng.choice(np.arange(block, PARAMS.outer_bits, PARAMS.blocks), count, False):
            out[positions[outer == g]] *= -1
    return out


def test_the_enrolled_values_open_the_commitment_and_give_the_key() -> None:
    code, values = random_code(1)
    commitment, key = commit(code, PARAMS, level=LEVEL)
    opening = open_commitment(commitment, values)
    assert (opening.opened, opening.key, opening.corrected) == (True, key, 0)
    assert opening.flipped is not None and not opening.flipped.any()


def test_up_to_t_wrong_outer_bits_per_block_are_corrected() -> None:
    code, values = random_code(2)
    commitment, key = commit(code, PARAMS, level=LEVEL)
    noisy = with_outer_errors(commitment.mask, values, (26, 10))
    opening = open_commitment(commitment, noisy)
    assert (opening.opened, opening.key, opening.corrected) == (True, key, 36)
    read_otherwise = (noisy != values)[commitment.mask]  # every copy of the 36 outer bits
    assert opening.flipped is not None and np.array_equal(opening.flipped, read_otherwise)
    too_many = with_outer_errors(commitment.mask, values, (0, 27))
    assert not open_commitment(commitment, too_many).opened


def test_a_minority_of_weak_copies_is_outvoted() -> None:
    code, values = random_code(3)
    commitment, key = commit(code, PARAMS, level=LEVEL)
    noisy = values.copy()
    committed = np.flatnonzero(commitment.mask)
    first_copies = committed[: PARAMS.outer_bits]  # one copy of every outer bit
    noisy[first_copies] = -0.1 * np.sign(noisy[first_copies])  # wrong, but weak
    assert open_commitment(commitment, noisy).key == key


def test_another_code_does_not_open() -> None:
    code, _ = random_code(4)
    commitment, _ = commit(code, PARAMS, level=LEVEL)
    assert not any(open_commitment(commitment, random_code(s)[1]).opened for s in range(5, 25))


def test_same_code_new_salt_new_key_and_bytes() -> None:
    code, _ = random_code(6)
    (first, key1), (second, key2) = (
        commit(code, PARAMS, level=LEVEL),
        commit(code, PARAMS, level=LEVEL),
    )
    assert key1 != key2 and first.to_bytes() != second.to_bytes()
    assert np.array_equal(first.mask, second.mask)


def test_mask_keeps_the_most_reliable_values() -> None:
    code, _ = random_code(7)
    commitment, _ = commit(code, PARAMS, level=LEVEL)
    assert commitment.mask.sum() == PARAMS.code_bits
    assert code.reliability[commitment.mask].min() >= code.reliability[~commitment.mask].max()


def test_signs_that_flipped_at_enrolment_rank_below_those_that_held() -> None:
    rng = np.random.default_rng(8)
    first = rng.normal(size=64).astype(np.float32)
    second = first.copy()
    second[:8] = -3 * second[:8]  # flipped, and stronger than any that held
    pair = enrol([first, second])
    assert pair.reliability[:8].max() < pair.reliability[8:].min()


def test_outer_sums_add_the_copies_of_each_bit() -> None:
    votes = np.arange(PARAMS.code_bits, dtype=np.float64)
    sums = outer_sums(PARAMS, votes)
    n = PARAMS.outer_bits
    assert sums.shape == (n,) and sums[5] == 5 + (5 + n) + (5 + 2 * n)


def test_enrolment_needs_captures_of_one_length() -> None:
    with pytest.raises(EnrolmentError, match="at least one"):
        enrol([])
    with pytest.raises(EnrolmentError, match="code length"):
        enrol([np.zeros(8, np.float32), np.zeros(16, np.float32)])


def test_code_of_the_wrong_length_or_a_short_band_is_refused() -> None:
    with pytest.raises(ValueError, match="code has 8 values"):
        commit(enrol([np.ones(8, np.float32)]), level=LEVEL)
    narrow = CommitmentParams(shortest_px=15, longest_px=16)
    code = enrol([np.ones(band_size(15, 16), np.float32)])
    with pytest.raises(ValueError, match="1392 bits to commit, the band holds"):
        commit(code, narrow, level=LEVEL)


def test_band_values_refuse_a_window_of_another_shape_or_a_flat_one() -> None:
    with pytest.raises(ValueError, match=r"want a \(256, 256\) uint8 window"):
        band_values(np.zeros((128, 128), np.uint8), 7, 16)
    with pytest.raises(ValueError, match="flat"):
        band_values(np.full((256, 256), 7, np.uint8), 7, 16)


def test_a_new_capture_of_the_item_opens_another_item_does_not(windows) -> None:  # conftest
    commitment, key = commit_to(windows.enrol)
    genuine = open_with(commitment, windows.genuine)
    assert genuine.opened and genuine.key == key
    assert genuine.corrected is not None and genuine.corrected <= 2 * 26
    assert not open_with(commitment, windows.other).opened
