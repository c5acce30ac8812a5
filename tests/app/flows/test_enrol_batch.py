"""Enrolment in batches: records prepared item by item, registered in one ledger append."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from app.flows.enrol import EnrolRefused, enrol_batch
from fingerprint.synth import Material, Tier, capture, make_item
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.errors import RegistryError
from registry_client.item import ItemId
from registry_client.ledger import NewEntry
from registry_client.note import SignerKey
from registry_client.records import SignedEnvelope, Signer, generate_key
from registry_client.registry import DuplicateItemError


class CountingRegistry:
    """An embedded registry that counts its appends."""

    def __init__(self, inner: EmbeddedRegistry) -> None:
        self.inner = inner
        self.appends: list[int] = []

    def admit_products(
        self, items: Sequence[tuple[SignedEnvelope, bytes]], pending: Collection[ItemId] = ()
    ) -> list[NewEntry | RegistryError | ValueError]:
        return self.inner.admit_products(items, pending)

    def append(self, entries: Sequence[NewEntry]) -> range:
        self.appends.append(len(entries))
        return self.inner.append(entries)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[tuple[CountingRegistry, Signer]]:
    maker = generate_key("acme.example")
    policy = create_ledger(
        tmp_path / "ledger", SignerKey.generate("test.log"), manufacturers=(maker.verifier,)
    )
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state", policy)
    yield CountingRegistry(registry), maker
    registry.close()


def test_a_batch_is_one_append_and_each_refusal_keeps_its_place(
    ledger: tuple[CountingRegistry, Signer],
) -> None:
    registry, maker = ledger
    rng = np.random.default_rng(5)
    first, second = make_item(rng, Material.PAPER, 70), make_item(rng, Material.PLASTIC, 71)
    blank = np.full((480, 640, 3), 120, np.uint8)
    images = [
        capture(first, rng, Tier.EASY),
        blank,
        capture(second, rng, Tier.EASY),
        capture(first, rng, Tier.EASY),  # the same item again in the batch
    ]
    results = enrol_batch(images, signer=maker, registry=registry)  # type: ignore[arg-type]
    assert isinstance(results[0], ItemId) and isinstance(results[2], ItemId)
    assert isinstance(results[1], EnrolRefused)
    assert isinstance(results[3], DuplicateItemError)
    assert registry.appends == [2]
    assert registry.inner.lookup(results[2]).record.item == results[2]
    again = enrol_batch(images[:1], signer=maker, registry=registry)  # type: ignore[arg-type]
    assert isinstance(again[0], DuplicateItemError) and registry.appends == [2]
