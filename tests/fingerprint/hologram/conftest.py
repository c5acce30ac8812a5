"""Synthetic hologram bursts, made once per session (small frames, few frames)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from numpy.typing import NDArray

from fingerprint.hologram import HologramTemplate, extract_hologram
from fingerprint.synth import Tier
from fingerprint.synth.hologram import HologramItem, make_hologram_item
from fingerprint.synth.hologram_attacks import generic_film, printed_copy, screen_replay
from fingerprint.synth.hologram_capture import burst

SIZE = (480, 360)
FRAMES = 12

Burst = list[NDArray[np.uint8]]


@dataclass(frozen=True)
class Bursts:
    item: HologramItem
    enrol: Burst
    genuine: Burst
    other: Burst
    printed: Burst
    screen: Burst
    film: Burst


@pytest.fixture(scope="session")
def bursts() -> Bursts:
    rng = np.random.default_rng(2026)
    item = make_hologram_item(rng, 0)

    def shoot(subject: HologramItem, tier: Tier = Tier.MEDIUM) -> Burst:
        return burst(subject, rng, frames=FRAMES, tier=tier, size=SIZE)

    return Bursts(
        item=item,
        enrol=shoot(item, Tier.EASY),
        genuine=shoot(item),
        other=shoot(make_hologram_item(rng, 1)),
        printed=shoot(printed_copy(item, rng)),
        screen=shoot(screen_replay(item, rng)),
        film=shoot(generic_film(item, rng)),
    )


@pytest.fixture(scope="session")
def enrolled(bursts: Bursts) -> HologramTemplate:
    return extract_hologram(bursts.enrol)
