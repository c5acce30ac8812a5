"""One PHOTO item enrolled from two EASY captures, a new capture of it, and another item.

Each is the commitment's window, cut at the code's refined frame (``Framed``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from fingerprint.commitment import Framed, frame_window
from fingerprint.image import to_gray
from fingerprint.synth import Item, Material, Tier, capture, make_item


@dataclass(frozen=True)
class Windows:
    enrol: list[Framed]
    genuine: NDArray[np.uint8]
    other: NDArray[np.uint8]


@pytest.fixture(scope="session")
def windows() -> Windows:
    rng = np.random.default_rng(8)
    item, other = make_item(rng, Material.PHOTO, 0), make_item(rng, Material.PHOTO, 1)

    def shot(subject: Item) -> Framed:
        framed = frame_window(to_gray(capture(subject, rng, Tier.EASY)))
        assert framed is not None
        return framed

    enrol = [shot(item), shot(item)]
    return Windows(enrol=enrol, genuine=shot(item).patch, other=shot(other).patch)
