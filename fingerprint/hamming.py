"""Brute-force matching of binary (ORB) descriptors under the Hamming distance."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fingerprint import _kernels

DESCRIPTOR_BYTES = 32
"""ORB descriptors are 256 bits (Rublee et al. 2011)."""


def match_descriptors(
    query: NDArray[np.uint8],
    train: NDArray[np.uint8],
    ratio: float = 0.8,
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
    """Match ORB descriptors with Lowe's ratio test and a cross-check.

    For each query descriptor, find its nearest and second-nearest train descriptors by
    Hamming distance. A pair is kept when it passes both

    - the ratio test [2]_: ``best < ratio * second_best`` (with a single train descriptor
      there is no second best and the test passes), and
    - the cross-check: the query is also the nearest of all queries to that train
      descriptor.

    Ties go to the lowest index, so results are deterministic.

    Parameters
    ----------
    query : (N, 32) uint8
        ORB descriptors [1]_, one per row.
    train : (M, 32) uint8
        ORB descriptors to search.
    ratio : float, optional
        Ratio-test threshold in (0, 1]; 0.8 is Lowe's value.

    Returns
    -------
    query_idx : (K,) int32
        Indices into ``query``, strictly increasing.
    train_idx : (K,) int32
        Index into ``train`` of each kept pair.
    distance : (K,) int32
        Hamming distance of each kept pair, in 0..256.

    Raises
    ------
    ValueError
        If a descriptor array is not a 2-D uint8 array with 32 columns, or ``ratio`` is not
        in (0, 1].

    Notes
    -----
    All N x M distances are computed once, in parallel, with POPCNT on the descriptors
    viewed as four uint64 words; N or M equal to 0 gives empty results.

    References
    ----------
    .. [1] E. Rublee, V. Rabaud, K. Konolige and G. Bradski, "ORB: An efficient
       alternative to SIFT or SURF", Proc. ICCV 2011, pp. 2564-2571.
       :DOI:`10.1109/ICCV.2011.6126544`
    .. [2] D. G. Lowe, "Distinctive image features from scale-invariant keypoints",
       International Journal of Computer Vision, vol. 60, no. 2, pp. 91-110, 2004.
       :DOI:`10.1023/B:VISI.0000029664.99615.94`
    """
    _check_descriptors(query, "query")
    _check_descriptors(train, "train")
    if isinstance(ratio, bool) or not (
        isinstance(ratio, int | float | np.floating) and 0.0 < ratio <= 1.0
    ):
        raise ValueError(f"ratio must be a number in (0, 1], got {ratio!r}")
    if query.shape[0] == 0 or train.shape[0] == 0:
        empty = np.empty(0, dtype=np.int32)
        return empty, empty.copy(), empty.copy()
    return _kernels.ratio_cross_matches(_as_words(query), _as_words(train), float(ratio))


def _check_descriptors(descriptors: NDArray[np.uint8], name: str) -> None:
    if not isinstance(descriptors, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(descriptors).__name__}")
    if descriptors.dtype != np.uint8:
        raise ValueError(f"{name} must have dtype uint8, got {descriptors.dtype}")
    if descriptors.ndim != 2 or descriptors.shape[1] != DESCRIPTOR_BYTES:
        raise ValueError(
            f"{name} must have shape (n, {DESCRIPTOR_BYTES}) (ORB descriptors), "
            f"got {descriptors.shape}"
        )


def _as_words(descriptors: NDArray[np.uint8]) -> NDArray[np.uint64]:
    """View (n, 32) bytes as (n, 4) uint64 words, copying only if not contiguous or aligned."""
    words: NDArray[np.uint64] = np.ascontiguousarray(descriptors).view(np.uint64)
    return words if words.flags.aligned else words.copy()
