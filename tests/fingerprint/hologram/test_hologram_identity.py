"""Identity evidence: the correlation of two grating orientation fields."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from fingerprint import TemplateFormatError
from fingerprint.hologram import HologramTemplate, extract_hologram
from fingerprint.hologram.identity import compare

Bursts = Any  # conftest.py's Bursts (test folders are not packages)


def with_field(template: HologramTemplate, field: np.ndarray) -> HologramTemplate:
    return dataclasses.replace(template, orientation=HologramTemplate.quantise(field))


def random_field(rng: np.random.Generator, size: int) -> np.ndarray:
    coherence = rng.uniform(0.2, 1.0, (size, size))
    return coherence * np.exp(2j * rng.uniform(0, np.pi, (size, size)))


def test_a_field_agrees_with_itself(enrolled: HologramTemplate) -> None:
    evidence = compare(enrolled, enrolled)
    assert evidence.orientation == pytest.approx(1.0)
    assert evidence.turn_deg == pytest.approx(0.0, abs=1e-6)


def test_a_common_turn_costs_nothing_and_is_reported(enrolled: HologramTemplate) -> None:
    """The light a little off the lens turns every estimated orientation alike."""
    field = random_field(np.random.default_rng(1), enrolled.patch_size)
    turned = field * np.exp(2j * np.deg2rad(4.0))
    evidence = compare(with_field(enrolled, field), with_field(enrolled, turned))
    assert evidence.orientation > 0.99
    assert evidence.turn_deg == pytest.approx(4.0, abs=0.5)


def test_unrelated_fields_barely_agree(enrolled: HologramTemplate) -> None:
    rng = np.random.default_rng(2)
    a, b = (with_field(enrolled, random_field(rng, enrolled.patch_size)) for _ in range(2))
    assert compare(a, b).orientation < 0.05


def test_a_blank_field_is_no_evidence(enrolled: HologramTemplate) -> None:
    blank = with_field(enrolled, np.zeros((enrolled.patch_size,) * 2, np.complex64))
    assert compare(enrolled, blank).orientation == 0.0


def test_the_item_agrees_better_than_another_item(
    bursts: Bursts, enrolled: HologramTemplate
) -> None:
    same = compare(enrolled, extract_hologram(bursts.genuine)).orientation
    other = compare(enrolled, extract_hologram(bursts.other)).orientation
    assert same > 0.6 > other


def test_templates_of_different_sizes_are_refused(enrolled: HologramTemplate) -> None:
    small = HologramTemplate.from_bytes(enrolled.to_bytes())
    small = dataclasses.replace(
        small,
        midv=small.midv[:8, :8].copy(),
        orientation=small.orientation[:8, :8].copy(),
        mask=small.mask[:8, :8].copy(),
    )
    with pytest.raises(TemplateFormatError, match="different patch sizes"):
        compare(enrolled, small)
