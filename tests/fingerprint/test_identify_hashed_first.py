"""Hashing first for a probe without a code (`Method.HASHED_FIRST`): its kernel against
a NumPy oracle, the search against the exhaustive scan wherever the two
must agree, and when the search stops early or falls back to the scan."""

from __future__ import annotations

import hashlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from fingerprint import _identify_kernels as kernels
from fingerprint.identify import (
    NO_CODE_ANGLES,
    NO_CODE_SCALES,
    SHORTCUT_RADIUS_FRACTION,
    Index,
    Method,
    coarse_to_fine,
)

SHORTCUT = round(SHORTCUT_RADIUS_FRACTION * 256)


def _digest(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest()


def _index(codes: NDArray[np.uint8]) -> Index:
    index = Index(256, source="test")
    index.add_many(codes, [f"item-{i}" for i in range(len(codes))], map(_digest, range(len(codes))))
    return index


def _distances(codes: NDArray[np.uint8], queries: NDArray[np.uint8]) -> NDArray[np.int64]:
    """(N, H) bit distances, straight from the definition."""
    return np.unpackbits(codes[:, None, :] ^ queries[None, :, :], axis=2).sum(axis=2)


def _flip(code: NDArray[np.uint8], bits: NDArray[np.intp]) -> NDArray[np.uint8]:
    unpacked = np.unpackbits(code)
    unpacked[bits] ^= 1
    return np.packbits(unpacked)


def _near(code: NDArray[np.uint8], flips: int, rng: np.random.Generator) -> NDArray[np.uint8]:
    return _flip(code, rng.choice(256, flips, replace=False))


def _substrings(codes: NDArray[np.uint8]) -> NDArray[np.uint16]:
    return np.ascontiguousarray(codes).view("<u2")


@settings(deadline=None, max_examples=30)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    n_queries=st.integers(1, 20),
    flips=st.sampled_from([0, 1, 2]),
    check=st.integers(0, 256),
    accept=st.integers(0, 256),
    n_lanes=st.integers(1, 3),
)
def test_first_within_finds_a_code_the_oracle_allows(
    seed: int, n: int, n_queries: int, flips: int, check: int, accept: int, n_lanes: int
) -> None:
    rng = np.random.default_rng(seed)
    queries = rng.integers(0, 256, (n_queries, 32), dtype=np.uint8)
    # Codes near the queries at every distance, so that buckets at 0-2 bits hold some.
    codes = np.array(
        [_near(queries[rng.integers(n_queries)], int(rng.integers(0, 90)), rng) for _ in range(n)]
    )
    codes[n // 2 :] = codes[: n - n // 2]  # duplicates: ties go to the lower row
    tables = kernels.build_tables(_substrings(codes))
    got = kernels.first_within(
        codes.view("<u8"), tables, queries.view("<u8"), flips, check, accept, n_lanes
    )
    # Straight from the definition: a code is found if a query's substring in some table
    # differs from the code's in exactly `flips` bits and the code lies within `check`
    # of that query; it ends the search if it lies within `accept` of the nearest query.
    per_substring = np.unpackbits(
        (_substrings(codes)[:, None, :] ^ _substrings(queries)[None, :, :])[..., None].view(
            np.uint8
        ),
        axis=-1,
    ).sum(axis=-1)  # (N, H, tables)
    distance = _distances(codes, queries)
    probed = (per_substring == flips).any(axis=2) & (distance <= check)
    nearest = distance.min(axis=1)
    allowed = np.flatnonzero(probed.any(axis=1) & (nearest <= accept))
    if allowed.size == 0:
        assert got == (-1, accept + 1)
    else:  # the search stops at the first such query: one of them, with its distance
        row, d = got
        assert row in allowed and d == nearest[row]
        if len(np.unique(codes[allowed], axis=0)) == 1:
            assert row == allowed[0]


@settings(deadline=None, max_examples=40)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    planted=st.lists(st.integers(0, 110), max_size=4),
    n_queries=st.integers(1, 3) | st.integers(16, 40),
    k=st.integers(1, 3),
    radius=st.integers(0, 256),
    late=st.integers(0, 30),
)
def test_hashed_first_answers_as_the_scan_unless_two_entries_are_within_its_radius(
    seed: int, n: int, planted: list[int], n_queries: int, k: int, radius: int, late: int
) -> None:
    rng = np.random.default_rng(seed)
    queries = rng.integers(0, 256, (n_queries, 32), dtype=np.uint8)
    codes = rng.integers(0, 256, (n + len(planted), 32), dtype=np.uint8)
    for i, flips in enumerate(planted):  # entries at chosen distances from some query
        codes[n + i] = _near(queries[rng.integers(n_queries)], flips, rng)
    codes = codes[rng.permutation(len(codes))]
    index = _index(codes[: len(codes) - late] if late < len(codes) else codes)
    index.search(queries[0], k=1)  # builds the hash tables; later adds are pending
    if late < len(codes):
        first = len(codes) - late
        index.add_many(
            codes[first:],
            [f"item-{i}" for i in range(first, len(codes))],
            map(_digest, range(first, len(codes))),
        )
    scan = index.search(queries, k=k, radius=radius, method=Method.SCAN)
    got = index.search(queries, k=k, radius=radius, method=Method.HASHED_FIRST)
    nearest = _distances(codes, queries).min(axis=1)
    close = np.flatnonzero(nearest <= min(radius, SHORTCUT))
    if k > 1 or len(close) <= 1:
        assert got == scan
    else:  # one of the entries that close, with its own distance
        (found,) = got
        row = int(found.label[5:])
        assert row in close and found.distance == nearest[row]


def _planted(seed: int, n_queries: int) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Random codes (about 128 bits from anything) and queries."""
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, (5_000, 32), dtype=np.uint8),
        rng.integers(0, 256, (n_queries, 32), dtype=np.uint8),
    )


def test_an_entry_within_the_shortcut_radius_is_found_by_hashing() -> None:
    codes, queries = _planted(3, 40)
    # 60 bits from the last query, none of them in its last 16-bit substring: round 0
    # finds it in that bucket.
    codes[1234] = _flip(queries[-1], np.random.default_rng(3).choice(240, 60, replace=False))
    index = _index(codes)
    found = index.shortcut(queries)
    assert found is not None and (found.label, found.distance) == ("item-1234", 60)
    assert index.search(queries, k=1, radius=84, method=Method.HASHED_FIRST) == (found,)


def test_one_bit_off_in_every_substring_is_found_in_round_one() -> None:
    codes, query = _planted(4, 1)
    codes[77] = _flip(query[0], np.arange(0, 256, 16))  # 16 bits: one per substring
    found = _index(codes).shortcut(query)
    assert found is not None and (found.label, found.distance) == ("item-77", 16)


def test_codes_added_after_the_tables_are_scanned_by_the_shortcut() -> None:
    codes, queries = _planted(5, 20)
    index = _index(codes)
    assert index.shortcut(queries) is None  # builds the tables
    index.add(_flip(queries[3], np.arange(0, 250, 5)), "late", _digest(-1))
    found = index.shortcut(queries)
    assert found is not None and (found.label, found.distance) == ("late", 50)


def test_nothing_within_the_shortcut_radius_falls_back_to_the_scan() -> None:
    codes, queries = _planted(6, 20)
    codes[4321] = _near(queries[7], SHORTCUT + 8, np.random.default_rng(6))
    index = _index(codes)
    assert index.shortcut(queries) is None
    (found,) = index.search(queries, k=1, radius=84, method=Method.HASHED_FIRST)
    assert (found.label, found.distance) == ("item-4321", SHORTCUT + 8)
    assert index.search(queries, k=1, radius=SHORTCUT, method=Method.HASHED_FIRST) == ()


def test_two_entries_within_the_shortcut_radius_give_the_first_found() -> None:
    """The documented limit: a nearer entry probed later is not looked for (in practice
    two captures of one item, both within 64 bits)."""
    codes, queries = _planted(7, 40)
    codes[10] = _flip(queries[0], np.arange(16, 16 + 50))  # round 0 finds it
    codes[20] = _flip(queries[-1], np.arange(0, 256, 16))  # nearer, found in round 1
    index = _index(codes)
    (found,) = index.search(queries, k=1, radius=84, method=Method.HASHED_FIRST)
    assert (found.label, found.distance) == ("item-10", 50)
    (nearest,) = index.search(queries, k=1, radius=84, method=Method.SCAN)
    assert (nearest.label, nearest.distance) == ("item-20", 16)


def test_coarse_to_fine_visits_the_coarse_grid_first() -> None:
    n_angles, n_scales = len(NO_CODE_ANGLES), len(NO_CODE_SCALES)
    order = coarse_to_fine(n_angles, n_scales)
    assert sorted(order.tolist()) == list(range(n_angles * n_scales))
    coarse = {a * n_scales + s for a in range(0, n_angles, 8) for s in range(0, n_scales, 4)}
    assert set(order[: len(coarse)].tolist()) == coarse
    assert order[0] == 0
