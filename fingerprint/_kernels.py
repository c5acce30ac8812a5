"""Numba kernels of the fingerprint engine (private).

Every kernel trusts its input: shapes, dtypes, contiguity and value ranges are checked by
the public wrappers in :mod:`fingerprint.lbp` and :mod:`fingerprint.hamming`. Kernels
release the GIL, so callers may run them from worker threads.

The LBP kernel must stay bit-exact with ``skimage.feature.local_binary_pattern``: it keeps
skimage's order of floating-point operations and compiles with :data:`EXACT_FASTMATH`
only: full ``fastmath=True`` lets LLVM reassociate and contract, and was measured to
change codes for P=16 and P=24.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic
from numpy.typing import NDArray

EXACT_FASTMATH = {"nnan", "ninf", "nsz", "arcp"}
"""Fast-math flags that leave every result of these kernels bit-identical."""

QUERY_BLOCK = 64
"""Queries per block of the matcher; each block keeps its own best query per train."""


@njit(cache=True, nogil=True, inline="always", fastmath=EXACT_FASTMATH)
def _bilinear(
    top_left: float,
    top_right: float,
    bottom_left: float,
    bottom_right: float,
    dr: float,
    dc: float,
) -> float:
    """Bilinear blend in skimage's operation order (``_shared/interpolation.pxd``)."""
    top = (1.0 - dc) * top_left + dc * top_right
    bottom = (1.0 - dc) * bottom_left + dc * bottom_right
    return (1.0 - dr) * top + dr * bottom


@njit(cache=True, nogil=True, inline="always")
def _pixel_or_zero(row: NDArray[np.uint8], col: int) -> float:
    """``row[col]`` as a float, or 0.0 outside the row (skimage's constant mode, cval=0)."""
    if 0 <= col < row.shape[0]:
        return float(row[col])
    return 0.0


@njit(cache=True, nogil=True, parallel=True, fastmath=EXACT_FASTMATH)
def uniform_lbp_codes(
    image: NDArray[np.uint8],
    rp: NDArray[np.float64],
    cp: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None:
    """Write the uniform LBP code of every pixel of ``image`` into ``out``.

    Parameters
    ----------
    image : (H, W) uint8, C-contiguous
    rp, cp : (P,) float64
        Row and column offsets of the P samples, already rounded to 5 decimals.
    out : (H, W) float64, C-contiguous
        Receives codes in ``0..P+1``.

    Notes
    -----
    Rows run in parallel. Within a row, each sample is swept along the row: interior
    columns, whose four neighbours all lie inside the image, form a branch-free loop over
    shifted slices that LLVM vectorises; the few border columns read 0 outside the image.
    The thresholded samples of the row are then counted: ones, and 0/1 changes between
    consecutive samples 0..P-1 without wrapping around, as skimage does.
    """
    rows, cols = image.shape
    n_points = rp.shape[0]
    zero_row = np.zeros(cols, dtype=np.uint8)
    # Column offsets and weights depend only on the sample and the column.
    col_lo = np.empty(n_points, dtype=np.int64)
    col_hi = np.empty(n_points, dtype=np.int64)
    col_dc = np.empty((n_points, cols), dtype=np.float64)
    for i in range(n_points):
        col_lo[i] = math.floor(cp[i])
        col_hi[i] = math.ceil(cp[i])
        for c in range(cols):
            x = c + cp[i]
            col_dc[i, c] = x - math.floor(x)
    for r in prange(rows):
        center = image[r]
        bits = np.empty((n_points, cols), dtype=np.uint8)
        for i in range(n_points):
            y = r + rp[i]
            r0 = math.floor(y)
            r1 = math.ceil(y)
            dr = y - r0
            top = image[r0] if 0 <= r0 < rows else zero_row
            bottom = image[r1] if 0 <= r1 < rows else zero_row
            lo = col_lo[i]
            hi = col_hi[i]
            first = min(max(0, -lo), cols)
            stop = max(min(cols, cols - hi), first)
            top_lo = top[first + lo : stop + lo]
            top_hi = top[first + hi : stop + hi]
            bottom_lo = bottom[first + lo : stop + lo]
            bottom_hi = bottom[first + hi : stop + hi]
            dcs = col_dc[i, first:stop]
            centers = center[first:stop]
            interior = bits[i, first:stop]
            for k in range(stop - first):
                value = _bilinear(
                    float(top_lo[k]),
                    float(top_hi[k]),
                    float(bottom_lo[k]),
                    float(bottom_hi[k]),
                    dr,
                    dcs[k],
                )
                interior[k] = value - float(centers[k]) >= 0.0
            for c in range(cols):
                if first <= c < stop:
                    continue
                value = _bilinear(
                    _pixel_or_zero(top, c + lo),
                    _pixel_or_zero(top, c + hi),
                    _pixel_or_zero(bottom, c + lo),
                    _pixel_or_zero(bottom, c + hi),
                    dr,
                    col_dc[i, c],
                )
                bits[i, c] = value - float(center[c]) >= 0.0
        ones = bits[0].astype(np.int32)
        changes = np.zeros(cols, dtype=np.int32)
        for i in range(1, n_points):
            previous = bits[i - 1]
            current = bits[i]
            for c in range(cols):
                ones[c] += current[c]
                changes[c] += current[c] != previous[c]
        for c in range(cols):
            out[r, c] = ones[c] if changes[c] <= 2 else n_points + 1


@njit(cache=True, nogil=True, parallel=True)
def cell_histograms(
    codes: NDArray[np.float64],
    row_edges: NDArray[np.int64],
    col_edges: NDArray[np.int64],
    out: NDArray[np.uint16],
    offset: int,
) -> None:
    """Add the count of every code of every grid cell to ``out[cell, offset + code]``.

    Parameters
    ----------
    codes : (H, W) float64
        Integer-valued codes; ``offset + code`` must be a valid column of ``out``.
    row_edges : (gy + 1,) int64
    col_edges : (gx + 1,) int64
        Cell boundaries; cell ``(y, x)`` is ``codes[row_edges[y]:row_edges[y+1],
        col_edges[x]:col_edges[x+1]]`` and is row ``y * gx + x`` of ``out``.
    out : (gy * gx, n_bins) uint16
        Counts are added; no cell may hold more than 65535 pixels.
    offset : int
        First column of this scale's bins in ``out``.
    """
    grid_x = col_edges.shape[0] - 1
    n_cells = (row_edges.shape[0] - 1) * grid_x
    for cell in prange(n_cells):
        cy, cx = divmod(np.int64(cell), grid_x)  # prange's index is unsigned
        for r in range(row_edges[cy], row_edges[cy + 1]):
            for c in range(col_edges[cx], col_edges[cx + 1]):
                out[cell, offset + int(codes[r, c])] += 1


def _type_popcount(typingctx: Any, value: Any) -> Any:
    """Type ``_popcount(uint64) -> uint64`` and lower it to ``llvm.ctpop`` (POPCNT)."""
    if value != types.uint64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


# Assigned rather than decorated: numba's stub types the intrinsic's call as the typer's.
_popcount: Any = intrinsic(_type_popcount)


@njit(cache=True, nogil=True, parallel=True)
def ratio_cross_matches(
    query: NDArray[np.uint64],
    train: NDArray[np.uint64],
    ratio: float,
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
    """Brute-force Hamming matching with Lowe's ratio test and a cross-check.

    Parameters
    ----------
    query : (N, 4) uint64, N >= 1
    train : (M, 4) uint64, M >= 1
    ratio : float
        A query's best distance must be below ``ratio`` times its second best; with
        M == 1 there is no second best and the test passes.

    Returns
    -------
    query_idx, train_idx, distance : (K,) int32
        Matches that pass both tests, in increasing query order.

    Notes
    -----
    One pass over the N x M distances, in parallel blocks of :data:`QUERY_BLOCK` queries.
    Each query keeps its best and second-best distance (knn-2); each block keeps, per
    train, its best query; blocks are then merged in query order. Every comparison is
    strict, so ties go to the lowest index whatever the number of threads.
    """
    n_query = query.shape[0]
    n_train = train.shape[0]
    n_blocks = (n_query + QUERY_BLOCK - 1) // QUERY_BLOCK
    best = np.empty(n_query, dtype=np.int32)
    second = np.empty(n_query, dtype=np.int32)
    best_train = np.empty(n_query, dtype=np.int32)
    block_dist = np.empty((n_blocks, n_train), dtype=np.int32)
    block_query = np.empty((n_blocks, n_train), dtype=np.int32)
    no_distance = np.int32(257)  # above any distance between 256-bit descriptors
    for block in prange(n_blocks):
        train_dist = block_dist[block]
        train_query = block_query[block]
        train_dist[:] = no_distance
        for q in range(block * QUERY_BLOCK, min(n_query, (block + 1) * QUERY_BLOCK)):
            d1 = no_distance
            d2 = no_distance
            j1 = 0
            w0, w1, w2, w3 = query[q, 0], query[q, 1], query[q, 2], query[q, 3]
            for j in range(n_train):
                d = np.int32(
                    _popcount(w0 ^ train[j, 0])
                    + _popcount(w1 ^ train[j, 1])
                    + _popcount(w2 ^ train[j, 2])
                    + _popcount(w3 ^ train[j, 3])
                )
                if d < d1:
                    d2 = d1
                    d1 = d
                    j1 = j
                elif d < d2:
                    d2 = d
                if d < train_dist[j]:
                    train_dist[j] = d
                    train_query[j] = q
            best[q] = d1
            second[q] = d2
            best_train[q] = j1
    best_query = np.empty(n_train, dtype=np.int32)
    for j in prange(n_train):
        d_min = no_distance
        for block in range(n_blocks):
            if block_dist[block, j] < d_min:
                d_min = block_dist[block, j]
                best_query[j] = block_query[block, j]
    keep = np.zeros(n_query, dtype=np.bool_)
    for q in range(n_query):
        passes_ratio = n_train == 1 or best[q] < ratio * second[q]
        keep[q] = passes_ratio and best_query[best_train[q]] == q
    kept = np.flatnonzero(keep)
    return kept.astype(np.int32), best_train[kept], best[kept]
