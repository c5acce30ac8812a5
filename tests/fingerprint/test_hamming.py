"""The descriptor matcher against OpenCV's BFMatcher and a reference from the definition."""

from __future__ import annotations

import cv2
import numba
import numpy as np
import pytest
import skimage.data
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from fingerprint.hamming import match_descriptors

Matches = tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]


def as_triples(matches: Matches) -> list[tuple[int, int, int]]:
    q, t, d = matches
    assert q.dtype == t.dtype == d.dtype == np.int32
    return list(zip(q.tolist(), t.tolist(), d.tolist(), strict=True))


def reference_matches(
    query: NDArray[np.uint8], train: NDArray[np.uint8], ratio: float
) -> list[tuple[int, int, int]]:
    """Straight from the definition: full distance matrix, ties to the lowest index."""
    if len(query) == 0 or len(train) == 0:
        return []
    distances = np.bitwise_count(query[:, None, :] ^ train[None, :, :]).sum(axis=2)
    best_train = distances.argmin(axis=1)  # argmin returns the first of equal minima
    best_query = distances.argmin(axis=0)
    matches = []
    for q, t in enumerate(best_train):
        ordered = np.sort(distances[q])
        passes_ratio = len(train) == 1 or ordered[0] < ratio * ordered[1]
        if passes_ratio and best_query[t] == q:
            matches.append((q, int(t), int(ordered[0])))
    return matches


def opencv_matches(
    query: NDArray[np.uint8], train: NDArray[np.uint8], ratio: float
) -> list[tuple[int, int, int]]:
    """BFMatcher knn k=2 with the ratio test, then a separate cross-checking matcher."""
    knn = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query, train, k=2)
    cross = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(query, train)
    cross_train = {m.queryIdx: m.trainIdx for m in cross}
    matches = []
    for pair in knn:
        best = pair[0]
        if len(pair) == 2 and not best.distance < ratio * pair[1].distance:
            continue
        if cross_train.get(best.queryIdx) == best.trainIdx:
            matches.append((best.queryIdx, best.trainIdx, int(best.distance)))
    return sorted(matches)


def near_duplicates(seed: int, n_train: int, n_copies: int, n_strangers: int) -> Matches:
    """Train set, and queries: noisy copies of distinct train rows plus unrelated rows.

    A copy differs from its source by at most 12 bits and from any other row by about
    128, so its best match is unique and ties cannot decide the result.
    """
    rng = np.random.default_rng(seed)
    train = rng.integers(0, 256, (n_train, 32), dtype=np.uint8)
    sources = rng.permutation(n_train)[:n_copies]
    copies = train[sources].copy()
    for row in copies:
        bits = rng.choice(256, size=rng.integers(0, 13), replace=False)
        np.bitwise_xor.at(row, bits // 8, (1 << (bits % 8)).astype(np.uint8))
    strangers = rng.integers(0, 256, (n_strangers, 32), dtype=np.uint8)
    query = np.concatenate([copies, strangers])[rng.permutation(n_copies + n_strangers)]
    return query, train, sources.astype(np.int32)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ratio", [0.8, 0.6, 1.0])
def test_matches_opencv_on_near_duplicates(seed: int, ratio: float) -> None:
    query, train, _ = near_duplicates(seed, n_train=400, n_copies=250, n_strangers=150)
    got = as_triples(match_descriptors(query, train, ratio))
    assert got == opencv_matches(query, train, ratio)
    assert got == reference_matches(query, train, ratio)
    assert len(got) >= 250 if ratio == 0.8 else len(got) > 0


@pytest.mark.parametrize("seed", range(3))
def test_matches_opencv_on_random_descriptors(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    query = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    train = rng.integers(0, 256, (500, 32), dtype=np.uint8)
    # At ratio 1 only the ratio test's strictness and the cross-check remain.
    for ratio in (0.8, 1.0):
        got = as_triples(match_descriptors(query, train, ratio))
        assert got == reference_matches(query, train, ratio)
        # Cross-check ties resolve by index here but by OpenCV's internal order there;
        # compare OpenCV only where the kept pair's distance is unique in its train column.
        distances = np.bitwise_count(query[:, None, :] ^ train[None, :, :]).sum(axis=2)
        unique = {
            t for t in range(len(train)) if (distances[:, t] == distances[:, t].min()).sum() == 1
        }
        assert [m for m in got if m[1] in unique] == [
            m for m in opencv_matches(query, train, ratio) if m[1] in unique
        ]


def test_matches_opencv_on_orb_descriptors() -> None:
    image = skimage.data.camera()
    turned = cv2.warpAffine(image, cv2.getRotationMatrix2D((256, 256), 10, 1.1), (512, 512))
    orb = cv2.ORB_create(1000)
    _, query = orb.detectAndCompute(image, None)
    _, train = orb.detectAndCompute(turned, None)
    got = as_triples(match_descriptors(query, train))
    assert len(got) > 100
    assert got == reference_matches(query, train, 0.8)
    assert got == opencv_matches(query, train, 0.8)


@st.composite
def tie_prone_sets(draw: st.DrawFn) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Small sets drawn from a few base descriptors with 0-2 flipped bits: many ties."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_query, n_train = draw(st.integers(0, 24)), draw(st.integers(0, 24))
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 256, (draw(st.integers(1, 4)), 32), dtype=np.uint8)

    def sample(n: int) -> NDArray[np.uint8]:
        rows = bases[rng.integers(0, len(bases), n)].copy()
        flips = rng.integers(0, 256, (n, 2))
        for row, bits in zip(rows, flips, strict=True):
            for bit in bits[: rng.integers(0, 3)]:
                row[bit // 8] ^= np.uint8(1 << (bit % 8))
        return rows

    return sample(n_query), sample(n_train)


@settings(deadline=None, max_examples=300)
@given(sets=tie_prone_sets(), ratio=st.sampled_from([0.5, 0.8, 1.0]))
def test_ties_go_to_the_lowest_index(
    sets: tuple[NDArray[np.uint8], NDArray[np.uint8]], ratio: float
) -> None:
    query, train = sets
    assert as_triples(match_descriptors(query, train, ratio)) == reference_matches(
        query, train, ratio
    )


def test_results_do_not_depend_on_thread_count() -> None:
    query, train, _ = near_duplicates(9, n_train=700, n_copies=300, n_strangers=400)
    query[::7] = query[0]  # equal queries: cross-check ties across parallel blocks
    expected = as_triples(match_descriptors(query, train))
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert as_triples(match_descriptors(query, train)) == expected
    finally:
        numba.set_num_threads(threads)
    assert expected == reference_matches(query, train, 0.8)


def test_single_train_descriptor_skips_the_ratio_test() -> None:
    train = np.zeros((1, 32), dtype=np.uint8)
    query = np.full((3, 32), 255, dtype=np.uint8)
    query[1, :4] = 0
    assert as_triples(match_descriptors(query, train)) == [(1, 0, 224)]
    assert as_triples(match_descriptors(query, train)) == opencv_matches(query, train, 0.8)


@pytest.mark.parametrize(("n_query", "n_train"), [(0, 5), (5, 0), (0, 0)])
def test_empty_inputs_give_empty_results(n_query: int, n_train: int) -> None:
    result = match_descriptors(
        np.zeros((n_query, 32), dtype=np.uint8), np.zeros((n_train, 32), dtype=np.uint8)
    )
    assert [a.shape for a in result] == [(0,)] * 3
    assert [a.dtype for a in result] == [np.int32] * 3


def test_accepts_non_contiguous_and_unaligned_arrays() -> None:
    query, train, _ = near_duplicates(4, n_train=100, n_copies=60, n_strangers=10)
    expected = as_triples(match_descriptors(query, train))
    wide = np.zeros((len(query), 64), dtype=np.uint8)
    wide[:, 16:48] = query
    buffer = np.zeros(train.size + 1, dtype=np.uint8)
    buffer[1:] = train.ravel()
    unaligned = buffer[1:].reshape(train.shape)
    assert not wide[:, 16:48].flags.c_contiguous
    assert as_triples(match_descriptors(wide[:, 16:48], unaligned)) == expected


GOOD = np.zeros((2, 32), dtype=np.uint8)


@pytest.mark.parametrize(
    ("query", "train", "message"),
    [
        (GOOD.astype(np.int16), GOOD, "query must have dtype uint8, got int16"),
        (GOOD, GOOD.astype(np.float32), "train must have dtype uint8"),
        (np.zeros((2, 16), dtype=np.uint8), GOOD, r"query must have shape \(n, 32\)"),
        (GOOD, np.zeros(32, dtype=np.uint8), r"train must have shape \(n, 32\)"),
        (GOOD, np.zeros((2, 32, 1), dtype=np.uint8), r"train must have shape \(n, 32\)"),
        (GOOD.tolist(), GOOD, "query must be a numpy array"),
    ],
)
def test_rejects_bad_descriptors(
    query: NDArray[np.uint8], train: NDArray[np.uint8], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        match_descriptors(query, train)


@pytest.mark.parametrize("ratio", [0.0, -0.5, 1.5, float("nan"), True, "0.8"])
def test_rejects_bad_ratio(ratio: float) -> None:
    with pytest.raises(ValueError, match=r"ratio must be a number in \(0, 1\]"):
        match_descriptors(GOOD, GOOD, ratio)
