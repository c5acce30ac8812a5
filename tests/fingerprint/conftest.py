"""Synthetic items and their templates, made once per session."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import fingerprint
from fingerprint.synth import Item, Material, Tier, capture, make_item, print_copy


@dataclass(frozen=True)
class Scene:
    item: Item
    other: Item
    enrol: np.ndarray
    genuine: np.ndarray
    impostor: np.ndarray
    copy: np.ndarray


@pytest.fixture(scope="session")
def scene() -> Scene:
    rng = np.random.default_rng(2026)
    item = make_item(rng, Material.PAPER, 0)
    other = make_item(rng, Material.PAPER, 1)
    return Scene(
        item=item,
        other=other,
        enrol=capture(item, rng, Tier.EASY),
        genuine=capture(item, rng, Tier.MEDIUM),
        impostor=capture(other, rng, Tier.MEDIUM),
        copy=capture(print_copy(item, rng), rng, Tier.MEDIUM),
    )


@pytest.fixture(scope="session")
def enrolled(scene: Scene) -> fingerprint.Template:
    return fingerprint.extract(scene.enrol)
