"""What a bundle holds, checked the same way on export and on open.

`check_contents` checks that the entries are one selected product record per item
with its revocations and key events, each product signed by an unrevoked policy key and
matched by its template; `prove_entries` proves every entry against the checkpoint
through its level-0 tile (RFC 9162 §2.1.3.2); `BundleLog` serves the checked contents
to `registry.verify_lookup`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from registry_client._bundle_file import BLOB_PREFIX, ENTRY_PREFIX, BundleFormatError
from registry_client.bundle_manifest import Selection
from registry_client.checkpoint import Checkpoint
from registry_client.errors import (
    ProofError,
    RecordFormatError,
    RevokedKeyError,
)
from registry_client.item import ItemId
from registry_client.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from registry_client.note import (
    KeyId,
)
from registry_client.policy import TrustPolicy
from registry_client.records import (
    KeyEvent,
    ProductRecord,
    Record,
    Revocation,
    SignedEnvelope,
    check_ahead,
    parse_record,
)
from registry_client.registry import (
    ITEM,
    KEY,
    check_product,
    entry_keys,
)
from registry_client.succession import EventsOf, chain, known_keys
from registry_client.tiles import (
    TILE_WIDTH,
    Tile,
    TileHashes,
    tile_for_node,
    tiles_for_inclusion,
)


class BundleLog:
    """The bundled entries, templates and tiles as a `registry.ProvenLog`.

    Built only from checked contents; `registry.verify_lookup` still proves each entry
    it reads against the checkpoint.
    """

    __slots__ = ("_blobs", "_by_item", "_by_key", "_entries", "_tiles")

    def __init__(
        self,
        entries: Mapping[int, bytes],
        blobs: Mapping[bytes, bytes],
        tiles: TileHashes,
        by_item: Mapping[ItemId, tuple[int, ...]],
        by_key: Mapping[str, tuple[int, ...]],
    ) -> None:
        self._entries = dict(entries)
        self._blobs = dict(blobs)
        self._tiles = tiles
        self._by_item = {item.format(): leaves for item, leaves in by_item.items()}
        self._by_key = dict(by_key)

    @property
    def items(self) -> tuple[ItemId, ...]:
        """The items covered, sorted."""
        return tuple(sorted(ItemId.parse(text) for text in self._by_item))

    def find(self, kind: str, key: str) -> tuple[int, ...]:
        """Leaf indexes under ``(kind, key)`` (`registry.ITEM` or `registry.KEY`)."""
        index = {ITEM: self._by_item, KEY: self._by_key}.get(kind, {})
        return index.get(key, ())

    def entry(self, index: int) -> bytes:
        """Entry ``index``; ``LookupError`` if not bundled."""
        try:
            return self._entries[index]
        except KeyError as exc:
            raise LookupError(f"entry {index} is not in the bundle") from exc

    def inclusion_proof(self, index: int) -> tuple[bytes, ...]:
        """Leaf ``index``'s inclusion proof in the checkpoint's tree, from the tiles."""
        return self._tiles.inclusion_proof(index)

    def blob(self, sha256: bytes) -> bytes:
        """The template with this SHA-256; ``LookupError`` if not bundled."""
        try:
            return self._blobs[sha256]
        except KeyError as exc:
            raise LookupError(f"template {sha256.hex()} is not in the bundle") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Indexes:
    by_item: dict[ItemId, tuple[int, ...]]
    by_key: dict[str, tuple[int, ...]]
    templates: dict[bytes, bytes]
    records: int


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry's bytes, envelope and record; the signature not yet checked."""

    data: bytes
    envelope: SignedEnvelope
    record: Record

    @classmethod
    def peek(cls, index: int, data: bytes) -> Entry:
        try:
            envelope = SignedEnvelope.parse(data)
            return cls(data, envelope, parse_record(envelope.payload))
        except RecordFormatError as exc:
            raise BundleFormatError(exc.reason, field=f"{ENTRY_PREFIX}{index}") from exc


def resting_keys(
    entries: Iterable[tuple[int, Entry]], policy: TrustPolicy, events_of: EventsOf
) -> set[KeyId]:
    """The keys the trust of the products and withdrawals in ``entries`` (leaf, entry)
    rests on: each signer's `succession.chain` at its leaf, back to a policy key. The key
    events a verifier reads for them are those under these keys (a withdrawal by a
    successor's successor rests on both rotations). A product's chain that fails raises
    (`RevokedKeyError`); a withdrawal's adds nothing, as a verifier does not heed it."""
    keys: set[KeyId] = set()
    for leaf, entry in entries:
        try:
            keys.update(
                KeyId.of(key) for key in chain(entry.envelope.signer, leaf, policy, events_of)
            )
        except RevokedKeyError:
            if not isinstance(entry.record, Revocation):
                raise
    return keys


def check_contents(
    peeked: Mapping[int, Entry],
    template: Callable[[bytes], bytes | None],
    policy: TrustPolicy,
    selection: Selection,
) -> Indexes:
    """Check that the entries are one selected product record per item, with their
    revocations and the key events their signers' trust rests on (`succession`), each
    product validly signed by a key the policy trusts at its leaf and matched by its
    template and hologram template, if any (`registry.check_product`); returns their
    indexes and those blobs, each looked up by its SHA-256 with ``template``."""
    by_item: defaultdict[ItemId, list[int]] = defaultdict(list)
    by_key: defaultdict[str, list[int]] = defaultdict(list)
    for i in sorted(peeked):
        record = peeked[i].record
        if isinstance(record, KeyEvent):
            for _, key in entry_keys(record):  # a rotation under both its keys
                by_key[key].append(i)
        elif isinstance(record, ProductRecord | Revocation):
            by_item[record.item].append(i)
        else:
            raise BundleFormatError(
                f"a {record.TYPE} record; bundles hold products, revocations and key events",
                field=f"{ENTRY_PREFIX}{i}",
            )

    def key_events(key: KeyId) -> list[tuple[int, bytes]]:
        return [(i, peeked[i].data) for i in by_key.get(key.format(), ())]

    templates: dict[bytes, bytes] = {}
    in_order = [peeked[i].envelope for leaves in by_item.values() for i in leaves]
    end = max(peeked, default=0) + 1
    signers = {envelope.signer for envelope in in_order}
    signatures = check_ahead(in_order, known_keys(signers, end, policy, key_events))
    checked = 0
    for item, indexes in by_item.items():
        checked += len(indexes)
        signatures.wait(checked)
        products = [
            (i, peeked[i].envelope, record)
            for i in indexes
            if isinstance(record := peeked[i].record, ProductRecord)
        ]
        if len(products) != 1:
            raise BundleFormatError(f"item {item} has {len(products)} product records")
        ((index, envelope, record),) = products
        if not selection.matches(record):
            raise BundleFormatError(
                f"item {item} is outside the selection {selection.describe()}",
                field=f"{ENTRY_PREFIX}{index}",
            )
        blob = template(record.template_sha256)
        if blob is None:
            raise BundleFormatError(
                f"template of item {item} is missing",
                field=f"{BLOB_PREFIX}{record.template_sha256.hex()}",
            )
        hologram = None
        if record.hologram_sha256 is not None:
            hologram = template(record.hologram_sha256)
            if hologram is None:
                raise BundleFormatError(
                    f"hologram template of item {item} is missing",
                    field=f"{BLOB_PREFIX}{record.hologram_sha256.hex()}",
                )
            templates[record.hologram_sha256] = hologram
        check_product(envelope, blob, policy, key_events, index, hologram)
        templates[record.template_sha256] = blob
    signed = ((i, peeked[i]) for leaves in by_item.values() for i in leaves)
    used_keys = {key.format() for key in resting_keys(signed, policy, key_events)}
    for i in sorted({i for indexes in by_key.values() for i in indexes}):
        keys = [key for _, key in entry_keys(peeked[i].record)]
        if not used_keys.intersection(keys):
            raise BundleFormatError(
                f"key events for {keys[0]}, on which no bundled record's trust rests",
                field=f"{ENTRY_PREFIX}{i}",
            )
    return Indexes(
        by_item={s: tuple(v) for s, v in by_item.items()},
        by_key={k: tuple(v) for k, v in by_key.items()},
        templates=templates,
        records=len(by_item),
    )


def tiles_for_entries(indexes: Iterable[int], size: int) -> frozenset[Tile]:
    """The tiles that prove each of ``indexes`` in a tree of ``size`` (tlog-tiles).

    For each level-0 tile touched: the tile itself and the tiles of its first leaf's
    inclusion proof, which the proofs of the tile's other leaves share above level 0.
    """
    firsts = {i - i % TILE_WIDTH for i in indexes}
    tiles: set[Tile] = set()
    for first in firsts:
        tiles.add(tile_for_node(0, first, size))
        tiles.update(tiles_for_inclusion(first, size))
    return frozenset(tiles)


def prove_entries(
    tiles: Mapping[Tile, bytes], entries: Mapping[int, bytes], checkpoint: Checkpoint
) -> TileHashes:
    """Check every entry against the checkpoint; the tiles, as a `TileHashes`.

    Each level-0 tile is proven by its first leaf's inclusion proof (RFC 9162
    §2.1.3.2): the proof's siblings inside the tile are hashed from all its other
    hashes, so the root binds the whole tile. Each entry's leaf hash must then equal its
    tile's hash. Raises `BundleFormatError` for a missing or extra tile, `ProofError`
    for a tile or entry that does not lead to the checkpoint's root.
    """
    size, root = checkpoint.size, checkpoint.root_hash
    if outside := [i for i in entries if i >= size]:
        raise BundleFormatError(f"entry {outside[0]} is outside the tree of size {size}")
    want = tiles_for_entries(entries, size)
    if missing := sorted(t.path for t in want - tiles.keys()):
        raise BundleFormatError("tile needed for a proof is missing", field=missing[0])
    if extra := sorted(t.path for t in tiles.keys() - want):
        raise BundleFormatError("tile is not needed by any proof", field=extra[0])
    hashes = TileHashes(size, tiles)
    for first in sorted({i - i % TILE_WIDTH for i in entries}):
        tile = tile_for_node(0, first, size)
        try:
            verify_inclusion(
                tiles[tile][:HASH_SIZE], first, size, hashes.inclusion_proof(first), root
            )
        except ProofError as exc:
            raise ProofError(
                f"{tile.path} does not lead to the checkpoint: {exc}",
                expected_root=exc.expected_root,
                calculated_root=exc.calculated_root,
            ) from exc
    for i, data in entries.items():
        tile = tile_for_node(0, i, size)
        offset = (i % TILE_WIDTH) * HASH_SIZE
        want_hash, got = tiles[tile][offset : offset + HASH_SIZE], leaf_hash(data)
        if got != want_hash:
            raise ProofError(f"entry {i} hashes to {got.hex()}, {tile.path} says {want_hash.hex()}")
    return hashes
