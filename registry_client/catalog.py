"""Every item a registry holds, with its template: what a 1:N index is built from.

`enrolled` walks the product records of an embedded ledger (in log order, from any
leaf, so an index can be brought up to date) or of an opened offline bundle; a
registry admits one product record per item (`DuplicateItemError`). Records are read,
not verified: an index built from them only proposes candidates, and each candidate
is then looked up through the registry (`Registry.lookup`), which checks everything.

An HTTP registry is not walked: a client would fetch every entry bundle and template;
the server answers ``/identify`` itself, walking its own store (a ledger folder or
PostgreSQL: both are an `EmbeddedRegistry` over a log with ``entries`` and ``blobs``).

`resume_at` decides whether an index saved earlier may be extended rather than rebuilt:
only if it names an earlier checkpoint of this very log, proven by a consistency proof
(RFC 9162 §2.1.4) from its root to the current one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from registry_client.bundle import BundleRegistry
from registry_client.embedded import EmbeddedRegistry
from registry_client.errors import (
    ProofError,
    RecordFormatError,
    RegistryError,
    RegistryUnavailable,
)
from registry_client.item import ItemId
from registry_client.ledger import Ledger
from registry_client.merkle import verify_consistency
from registry_client.records import ProductRecord, SignedEnvelope, parse_record
from registry_client.registry import ITEM, Registry
from registry_client.tiles import TILE_WIDTH, TileHashes, tiles_for_root


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


def source_at(registry: EmbeddedRegistry, size: int) -> str:
    """`source_of` for the ledger's first ``size`` leaves (0 < size ≤ its checkpoint's):
    the root of that prefix computed from the tiles, so an index can be saved between
    checkpoints."""
    ledger = registry.ledger
    if not 0 < size <= ledger.size:
        raise ValueError(f"size is {size}, want 0 < size ≤ {ledger.size}")
    tiles = TileHashes(size, {tile: ledger.read(tile.path) for tile in tiles_for_root(size)})
    return f"ledger {size} {tiles.root().hex()} {ledger.checkpoint.origin}"


def resume_at(registry: Registry, source: str) -> int:
    """The leaf from which `enrolled` adds what an index built from ``source`` lacks.

    Its size if ``source`` names an earlier checkpoint of this ledger: same origin, no
    larger, and its root proven a prefix of the current tree; else 0 (walk it all: the
    index is of another log, of a fork, or of a log since restored to an older state).
    """
    kind, _, rest = source.partition(" ")
    size_text, _, rest = rest.partition(" ")
    root_hex, _, origin = rest.partition(" ")
    plain = size_text.isascii() and size_text.isdigit()  # str.isdigit takes "²", int() not
    if kind != "ledger" or not plain or not isinstance(registry, EmbeddedRegistry):
        return 0
    size = int(size_text)
    checkpoint = registry.checkpoint()
    if origin != checkpoint.origin or not 0 < size <= checkpoint.size:
        return 0
    try:
        root = bytes.fromhex(root_hex)
        proof = registry.ledger.consistency_proof(size, checkpoint.size)
        verify_consistency(size, checkpoint.size, proof, root, checkpoint.root_hash)
    except (ValueError, ProofError):
        return 0
    return size


def enrolled(
    registry: Registry, start: int = 0, stop: int | None = None, *, scheme: str
) -> Iterator[Enrolled]:
    """The items of ``registry`` registered under fingerprint ``scheme``, from leaf
    ``start`` to ``stop`` (default: the current checkpoint's size). A ledger can mix
    schemes: only some can be searched.

    For a bundle ``start`` must be 0 and ``stop`` None (a bundle holds a selection, not
    a log prefix). Raises `NotWalkableError` for other registries, `RecordFormatError`
    for an entry that is not a signed envelope, `RegistryUnavailable` if a template is
    missing.
    """
    if isinstance(registry, EmbeddedRegistry):
        end = registry.checkpoint().size if stop is None else stop
        return _ledger_items(registry.ledger, start, end, scheme)
    if isinstance(registry, BundleRegistry):
        if start or stop is not None:
            raise ValueError(f"a bundle is walked whole, got leaves {start}:{stop}")
        return _bundle_items(registry, scheme)
    raise NotWalkableError(
        f"cannot list the items of a {type(registry).__name__}: use a ledger folder or a bundle"
    )


def _ledger_items(ledger: Ledger, start: int, stop: int, scheme: str) -> Iterator[Enrolled]:
    """Tile by tile: its entries, then its products' templates in one read."""
    if not 0 <= start <= stop <= ledger.size:
        raise ValueError(f"leaves are {start}:{stop}, want 0 ≤ start ≤ stop ≤ {ledger.size}")
    for first in range(start, stop, TILE_WIDTH):
        entries = ledger.entries(first, min(first + TILE_WIDTH, stop))
        records = [(i, _product(entry, i)) for i, entry in enumerate(entries, first)]
        wanted = [(i, r) for i, r in records if r is not None and r.scheme == scheme]
        templates = ledger.blobs(r.template_sha256 for _, r in wanted)
        for index, record in wanted:
            yield _with_template(record, index, templates.__getitem__)


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
