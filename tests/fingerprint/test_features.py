import numpy as np
import pytest

from fingerprint import TemplateFormatError
from fingerprint.features import LBP_SHARE_FLOOR, lbp_log_shares
from fingerprint.lbp import lbp_histograms

SCALES = ((8, 1.0), (16, 2.0), (24, 3.0))


def _patch(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (64, 64), dtype=np.uint8)


def test_each_scale_s_shares_sum_to_one() -> None:
    shares = np.exp(lbp_log_shares(lbp_histograms(_patch(0), scales=SCALES), SCALES))
    blocks = np.split(shares, [10, 28])
    assert [len(b) for b in blocks] == [10, 18, 26]
    for block in blocks:
        assert block.sum() == pytest.approx(1.0, abs=26 * LBP_SHARE_FLOOR)


def test_shares_pool_the_cells_whatever_the_grid() -> None:
    patch = _patch(1)
    a = lbp_log_shares(lbp_histograms(patch, scales=SCALES), SCALES)
    b = lbp_log_shares(lbp_histograms(patch, scales=SCALES, grid=(2, 3)), SCALES)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_a_code_that_never_occurs_is_floored() -> None:
    flat = np.full((64, 64), 128, np.uint8)
    shares = lbp_log_shares(lbp_histograms(flat, scales=SCALES), SCALES)
    assert np.all(np.isfinite(shares)) and shares.min() == pytest.approx(np.log(LBP_SHARE_FLOOR))


def test_histograms_of_other_scales_are_refused() -> None:
    histograms = lbp_histograms(_patch(2), scales=((8, 1.0),))
    with pytest.raises(TemplateFormatError, match="scales"):
        lbp_log_shares(histograms, SCALES)
