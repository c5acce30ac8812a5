"""Every item a registry holds, with its template: what a 1:N index is built from.

`enrolled` walks the product records of an embedded ledger (in log order, from any
leaf, so an index can be brought up to date) or of an opened offline bundle. The first
product record of an item counts, as in `registry.verify_lookup`. Records are read,
not verified: an index built from them only proposes candidates, and each candidate
is then looked up through the registry (`Registry.lookup`), which checks everything.

An HTTP registry is not walked: a client would fetch every entry bundle and template;
the server answers ``/identify`` itself (not built yet).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from registry_client.bundle import BundleRegistry
from registry_client.client import EmbeddedRegistry
from registry_client.errors import RecordFormatError, RegistryError, RegistryUnavailable
from registry_client.item import ItemId
from registry_client.records import ProductRecord, SignedEnvelope, parse_record
from registry_client.registry import ITEM, Registry
from registry_client.tiles import TILE_WIDTH


class NotWalkableError(RegistryError):
    """The registry cannot be walked item by item from here (an HTTP registry)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Enrolled:
    """One registered item: its id, leaf, and template bytes with their SHA-256."""

    item: ItemId
    leaf_index: int
    template_sha256: bytes
    template: bytes


def source_of(registry: Registry) -> str:
    """What an index of ``registry`` is built from, one line: ``ledger SIZE ROOT ORIGIN``
    for a ledger's checkpoint, ``bundle CONTENT-SHA256 ORIGIN`` for a bundle."""
    if isinstance(registry, BundleRegistry):
        bundle = registry.bundle
        return (
            f"bundle {bundle.manifest.content_sha256.hex()} {bundle.checkpoint.checkpoint.origin}"
        )
    checkpoint = registry.checkpoint()
    return f"ledger {checkpoint.size} {checkpoint.root_hash.hex()} {checkpoint.origin}"


def resume_at(registry: Registry, source: str) -> int:
    """The leaf from which `enrolled` adds what an index built from ``source`` lacks:
    its size if it is an earlier checkpoint of the same ledger, else 0 (walk it all)."""
    kind, _, rest = source.partition(" ")
    size, _, rest = rest.partition(" ")
    _, _, origin = rest.partition(" ")
    if kind != "ledger" or not size.isdigit() or not isinstance(registry, EmbeddedRegistry):
        return 0
    checkpoint = registry.checkpoint()
    return int(size) if origin == checkpoint.origin and int(size) <= checkpoint.size else 0


def enrolled(registry: Registry, start: int = 0, *, scheme: str) -> Iterator[Enrolled]:
    """The items of ``registry``'s current checkpoint registered under fingerprint
    ``scheme``, from leaf ``start`` on (a ledger can mix schemes: only some can be
    searched).

    For a bundle ``start`` must be 0 (a bundle holds a selection, not a log prefix).
    Raises `NotWalkableError` for other registries, `RecordFormatError` for an entry
    that is not a signed envelope, `RegistryUnavailable` if a template is missing.
    """
    if isinstance(registry, EmbeddedRegistry):
        return _ledger_items(registry, start, scheme)
    if isinstance(registry, BundleRegistry):
        if start:
            raise ValueError(f"a bundle is walked whole, got start={start}")
        return _bundle_items(registry, scheme)
    raise NotWalkableError(
        f"cannot list the items of a {type(registry).__name__}: use a ledger folder or a bundle"
    )


def _ledger_items(registry: EmbeddedRegistry, start: int, scheme: str) -> Iterator[Enrolled]:
    ledger = registry.ledger
    size = registry.checkpoint().size
    if not 0 <= start <= size:
        raise ValueError(f"start is {start}, want 0 ≤ start ≤ {size}")
    seen: set[ItemId] = set()
    for first in range(start, size, TILE_WIDTH):
        entries = ledger.entries(first, min(first + TILE_WIDTH, size))
        for index, data in enumerate(entries, first):
            record = _product(data, index)
            if record is not None and record.item not in seen:
                seen.add(record.item)
                if record.scheme == scheme:
                    yield _with_template(record, index, ledger.blob)


def _bundle_items(registry: BundleRegistry, scheme: str) -> Iterator[Enrolled]:
    log = registry.bundle.log
    for item in log.items:
        for index in log.find(ITEM, item.format()):
            record = _product(log.entry(index), index)
            if record is not None:
                if record.scheme == scheme:
                    yield _with_template(record, index, log.blob)
                break


def _product(data: bytes, index: int) -> ProductRecord | None:
    try:
        record = parse_record(SignedEnvelope.parse(data).payload)
    except RecordFormatError as exc:
        raise RecordFormatError(f"leaf {index}: {exc}") from exc
    return record if isinstance(record, ProductRecord) else None


def _with_template(record: ProductRecord, index: int, blob: Callable[[bytes], bytes]) -> Enrolled:
    try:
        template = blob(record.template_sha256)
    except LookupError as exc:
        raise RegistryUnavailable(
            f"template {record.template_sha256.hex()} of leaf {index} is not available: {exc}"
        ) from exc
    return Enrolled(
        item=record.item,
        leaf_index=index,
        template_sha256=record.template_sha256,
        template=template,
    )
