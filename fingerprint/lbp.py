"""Uniform local binary patterns (LBP) and their per-cell histograms.

``uniform_lbp`` is bit-exact with ``skimage.feature.local_binary_pattern(image, P, R,
method="uniform")`` (scikit-image 0.26), which the tests use as the oracle; skimage is
never imported here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from fingerprint import _kernels
from fingerprint.errors import ImageError

Scales = Sequence[tuple[int, float]]
"""LBP scales as ``(P, R)`` pairs: P samples on a circle of radius R pixels."""

DEFAULT_SCALES: tuple[tuple[int, float], ...] = ((8, 1.0), (16, 2.0), (24, 3.0))
DEFAULT_GRID: tuple[int, int] = (4, 4)

_MAX_CELL_PIXELS = int(np.iinfo(np.uint16).max)


def uniform_lbp(image: NDArray[np.uint8], P: int, R: float) -> NDArray[np.float64]:
    """Rotation-invariant uniform LBP code of every pixel.

    Each pixel is compared with P samples on a circle of radius R around it, read by
    bilinear interpolation at offsets ``(-R sin(2πp/P), R cos(2πp/P))`` rounded to 5
    decimals, with 0 outside the image. A sample at least as bright as the centre is a 1.
    A pattern with at most two 0/1 changes along samples 0..P-1 (not wrapping around, as
    in skimage) is uniform and its code is its number of ones, 0..P; any other pattern
    has code P+1.

    Parameters
    ----------
    image : (H, W) uint8
        Grey image, H, W >= 1.
    P : int
        Number of samples, >= 1.
    R : float
        Radius in pixels, finite and > 0.

    Returns
    -------
    codes : (H, W) float64
        Codes in 0..P+1, equal bit for bit to skimage's, borders included.

    Raises
    ------
    ImageError
        If ``image`` is not a non-empty 2-D uint8 array (``ImageError`` is a
        ``ValueError``).
    ValueError
        If ``P`` or ``R`` is out of range.

    References
    ----------
    .. [1] T. Ojala, M. Pietikäinen and T. Mäenpää, "Multiresolution gray-scale and
       rotation invariant texture classification with local binary patterns", IEEE
       Transactions on Pattern Analysis and Machine Intelligence, vol. 24, no. 7,
       pp. 971-987, 2002. :DOI:`10.1109/TPAMI.2002.1017623`
    """
    _check_image(image, "image")
    _check_scale(P, R)
    return _codes(np.ascontiguousarray(image), P, R)


def lbp_histograms(
    patch: NDArray[np.uint8],
    scales: Scales = DEFAULT_SCALES,
    grid: tuple[int, int] = DEFAULT_GRID,
) -> NDArray[np.uint16]:
    """Histograms of uniform LBP codes over a regular grid of cells, at several scales.

    Parameters
    ----------
    patch : (H, W) uint8
        Grey patch with H >= gy and W >= gx, and at most 65535 pixels per cell.
    scales : sequence of (P, R), optional
        LBP scales, see :func:`uniform_lbp`.
    grid : (gy, gx), optional
        Cells down and across. Cell boundaries are
        ``np.linspace(0, H, gy + 1).astype(int)`` and likewise across.

    Returns
    -------
    histograms : (gy * gx, sum(P + 2 for P, _ in scales)) uint16
        Row ``y * gx + x`` is cell ``(y, x)`` (row-major). Its columns are one block per
        scale, in the order of ``scales``; in the block of scale P, column ``k`` counts the
        cell's pixels with code ``k`` (0..P+1). Each block of a row sums to the number of
        pixels in the cell.

    Raises
    ------
    ImageError
        If ``patch`` is not a non-empty 2-D uint8 array, is smaller than the grid, or its
        cells are too large to count in uint16.
    ValueError
        If ``scales`` is empty or holds an invalid (P, R), or ``grid`` is not two
        positive integers.

    References
    ----------
    .. [1] T. Ojala, M. Pietikäinen and T. Mäenpää, "Multiresolution gray-scale and
       rotation invariant texture classification with local binary patterns", IEEE
       Transactions on Pattern Analysis and Machine Intelligence, vol. 24, no. 7,
       pp. 971-987, 2002. :DOI:`10.1109/TPAMI.2002.1017623`
    """
    _check_image(patch, "patch")
    _check_scales(scales)
    if not (
        isinstance(grid, tuple) and len(grid) == 2 and all(_is_int(g) and g >= 1 for g in grid)
    ):
        raise ValueError(f"grid must be two positive integers (gy, gx), got {grid!r}")
    height, width = patch.shape
    grid_y, grid_x = grid
    if height < grid_y or width < grid_x:
        raise ImageError(f"patch of shape {patch.shape} is smaller than the grid {grid}")
    row_edges = np.linspace(0, height, grid_y + 1).astype(np.int64)
    col_edges = np.linspace(0, width, grid_x + 1).astype(np.int64)
    cell_pixels = int(np.diff(row_edges).max() * np.diff(col_edges).max())
    if cell_pixels > _MAX_CELL_PIXELS:
        raise ImageError(
            f"cells of patch {patch.shape} in grid {grid} hold up to {cell_pixels} pixels, "
            f"more than the {_MAX_CELL_PIXELS} a uint16 histogram can count"
        )
    image = np.ascontiguousarray(patch)
    out = np.zeros((grid_y * grid_x, _n_bins(scales)), dtype=np.uint16)
    offset = 0
    for P, R in scales:
        _kernels.cell_histograms(_codes(image, P, R), row_edges, col_edges, out, offset)
        offset += P + 2
    return out


def lbp_chi2(
    a: NDArray[np.uint16],
    b: NDArray[np.uint16],
    scales: Scales = DEFAULT_SCALES,
) -> NDArray[np.float64]:
    """Per-cell chi-square distance between two sets of LBP histograms.

    Each cell's histogram of each scale is normalised to sum 1, giving ``p`` and ``q``;
    their distance is ``0.5 * sum((p - q)**2 / (p + q))`` over bins where ``p + q > 0``,
    which lies in [0, 1]. A cell's distance is the mean over scales.

    Parameters
    ----------
    a, b : (n_cells, sum(P + 2 for P, _ in scales)) uint16
        Histograms laid out as returned by :func:`lbp_histograms`.
    scales : sequence of (P, R), optional
        The scales the histograms were computed with.

    Returns
    -------
    distance : (n_cells,) float64
        0 for identical cells, symmetric in ``a`` and ``b``.

    Raises
    ------
    ValueError
        If the shapes differ or do not fit ``scales``, a count is negative, or a
        histogram of a cell sums to 0.
    """
    _check_scales(scales)
    n_bins = _n_bins(scales)
    for name, h in (("a", a), ("b", b)):
        if not (isinstance(h, np.ndarray) and h.ndim == 2 and h.shape[1] == n_bins):
            raise ValueError(
                f"{name} must be a 2-D array with {n_bins} columns for scales {scales!r}, "
                f"got shape {getattr(h, 'shape', None)}"
            )
        if (h < 0).any():
            raise ValueError(f"{name} holds negative counts")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    total = np.zeros(a.shape[0], dtype=np.float64)
    offset = 0
    for P, _ in scales:
        block = slice(offset, offset + P + 2)
        p = _normalised(a[:, block], "a", P)
        q = _normalised(b[:, block], "b", P)
        both = p + q
        terms = np.divide((p - q) ** 2, both, out=np.zeros_like(both), where=both > 0)
        total += 0.5 * terms.sum(axis=1)
        offset += P + 2
    distance: NDArray[np.float64] = total / len(scales)
    return distance


def _codes(image: NDArray[np.uint8], P: int, R: float) -> NDArray[np.float64]:
    """Codes of a checked, C-contiguous image; sampling offsets exactly as skimage's."""
    angles = 2 * np.pi * np.arange(P, dtype=np.float64) / P
    rp = np.round(-R * np.sin(angles), 5)
    cp = np.round(R * np.cos(angles), 5)
    out = np.empty(image.shape, dtype=np.float64)
    _kernels.uniform_lbp_codes(image, rp, cp, out)
    return out


def _normalised(counts: NDArray[np.uint16], name: str, P: int) -> NDArray[np.float64]:
    sums = counts.sum(axis=1, keepdims=True, dtype=np.float64)
    if (sums <= 0).any():
        raise ValueError(f"{name} has a cell whose P={P} histogram sums to 0")
    normalised: NDArray[np.float64] = counts / sums
    return normalised


def _n_bins(scales: Scales) -> int:
    return sum(P + 2 for P, _ in scales)


def _check_image(image: NDArray[np.uint8], name: str) -> None:
    if not isinstance(image, np.ndarray):
        raise ImageError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ImageError(f"{name} must have dtype uint8, got {image.dtype}")
    if image.ndim != 2:
        raise ImageError(f"{name} must be 2-D (grey), got shape {image.shape}")
    if image.size == 0:
        raise ImageError(f"{name} must not be empty, got shape {image.shape}")


def _check_scales(scales: Scales) -> None:
    if len(scales) == 0:
        raise ValueError("scales must hold at least one (P, R) pair, got none")
    for scale in scales:
        if len(scale) != 2:
            raise ValueError(f"each scale must be a (P, R) pair, got {scale!r}")
        _check_scale(*scale)


def _check_scale(P: int, R: float) -> None:
    if not (_is_int(P) and P >= 1):
        raise ValueError(f"P must be an integer >= 1, got {P!r}")
    if isinstance(R, bool) or not (
        isinstance(R, int | float | np.integer | np.floating) and 0 < R < np.inf
    ):
        raise ValueError(f"R must be a finite number > 0, got {R!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)
