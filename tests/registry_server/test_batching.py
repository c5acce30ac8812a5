"""The sequencer when another server process logs one of a batch's items first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pytest
from registry_samples import item, manufacturer, product

from registry_client.ledger import NewEntry
from registry_client.records import SignedEnvelope, parse_record
from registry_client.registry import ITEM, DuplicateItemError
from registry_server.batching import Sequencer
from registry_server.store import Store


class RacedStore:
    """Admits every product; its log already holds ``taken`` (logged by another process)."""

    def __init__(self, taken: str) -> None:
        self.taken = taken
        self.appended: list[list[NewEntry]] = []

    def admit_products(self, products: Sequence[tuple[SignedEnvelope, bytes]]) -> list[NewEntry]:
        return [
            NewEntry(data=envelope.format(), keys=((ITEM, _item(envelope)),), blobs=(template,))
            for envelope, template in products
        ]

    def append(self, entries: Sequence[NewEntry]) -> range:
        self.appended.append(list(entries))
        if any((ITEM, self.taken) in entry.keys for entry in entries):
            raise DuplicateItemError(item("SN-TAKEN"), leaf_index=7)
        return range(100, 100 + len(entries))


def _item(envelope: SignedEnvelope) -> str:
    return parse_record(envelope.payload).item.format()  # type: ignore[union-attr]


def test_the_rest_of_a_batch_is_logged_when_one_item_lost_a_race() -> None:
    maker = manufacturer()
    store = RacedStore(item("SN-TAKEN").format())
    sequencer = Sequencer(cast(Store, store))
    futures = [sequencer.submit(*product(maker, s)) for s in ("SN-A", "SN-TAKEN", "SN-B")]
    sequencer.start()  # all three were queued first: one batch
    try:
        assert futures[0].result(timeout=10) == 100
        assert futures[2].result(timeout=10) == 101
        with pytest.raises(DuplicateItemError) as lost:
            futures[1].result(timeout=10)
    finally:
        sequencer.stop()
    assert lost.value.leaf_index == 7
    assert [len(batch) for batch in store.appended] == [3, 2]
