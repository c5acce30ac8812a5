"""One PHOTO item enrolled from two EASY captures, a new capture of it, and another item."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

import fingerprint
from fingerprint.synth import Material, Tier, capture, make_item


@dataclass(frozen=True)
class Residuals:
    enrol: list[NDArray[np.int8]]
    genuine: NDArray[np.int8]
    other: NDArray[np.int8]


@pytest.fixture(scope="session")
def residuals() -> Residuals:
    rng = np.random.default_rng(8)
    item, other = make_item(rng, Material.PHOTO, 0), make_item(rng, Material.PHOTO, 1)

    def shot(subject: fingerprint.synth.Item) -> NDArray[np.int8]:
        return fingerprint.extract(capture(subject, rng, Tier.EASY)).features.residual

    enrol = [shot(item), shot(item)]
    return Residuals(enrol=enrol, genuine=shot(item), other=shot(other))
