"""Offline bundles: a signed, self-verifying slice of the ledger for inspectors without network.

A bundle holds the product records a selection names (a manufacturer key, SKU, batch or
item list), their templates, the key events and item revocations that bear on them,
the hash tiles that prove every one of those entries against one log checkpoint, that
checkpoint (log-signed, with any witness cosignatures), and the exporter's trust policy.
A manifest signed by the exporter (the log operator or a manufacturer) states the
selection, the expiry and a SHA-256 over everything else.

File layout (all integers big-endian)::

    MAGIC                                   b"hallmark-bundle/v1\\n"
    member*                                 u16 name length, ASCII name, u32 length, bytes
        checkpoint                          the checkpoint note (c2sp.org/tlog-checkpoint)
        policy                              the exporter's trust policy (c2sp.org/tlog-policy)
        tile/<L>/<N>[.p/<W>]                hash tiles as published for the checkpoint's size
        entry/<index>                       ledger entries (`SignedEnvelope` JSON)
        blob/<sha256 hex>                   templates
    manifest                                last: a signed note (c2sp.org/signed-note) whose
                                            text is the manifest's canonical JSON and a newline

A length-prefixed container rather than a zip: there are no paths to traverse, no
compression to bomb, and each member's size is checked against its kind's limit before
it is read. Members are never written to disk.

`open_bundle` returns a fully verified `Bundle` or raises; in order it checks the
container, the manifest's signature (by a log or manufacturer key of the verifier's
policy), the expiry (fail closed), the checkpoint (policy quorum), each level-0 tile by
the inclusion proof of its first leaf (which covers all its hashes), each entry's leaf
hash against its tile, each product record's signature, key status and template hash
(`registry.check_product`), and last the manifest's digest of all the bytes, which also
binds the tile hashes no proof used and the policy text.

References
----------
https://c2sp.org/tlog-tiles, https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note,
https://c2sp.org/tlog-policy; RFC 9162 §2.1.3 (inclusion proofs).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import struct
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, TypeVar

from registry_client.canonical import JSONValue, canonical_json, load_canonical_json
from registry_client.checkpoint import Checkpoint, VerifiedCheckpoint
from registry_client.errors import (
    CheckpointError,
    ExpiredBundleError,
    ProofError,
    RecordFormatError,
    RegistryError,
    RegistryUnavailable,
    SignatureError,
    VerificationError,
)
from registry_client.item import ItemId
from registry_client.ledger import Ledger
from registry_client.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from registry_client.note import (
    KeyId,
    KeyType,
    Note,
    SignerKey,
    VerifierKey,
    decode_base64,
    encode_base64,
)
from registry_client.policy import MAX_POLICY_SIZE, TrustPolicy
from registry_client.records import (
    MAX_ENVELOPE_SIZE,
    MAX_TEMPLATE_SIZE,
    KeyAction,
    KeyEvent,
    ProductRecord,
    Record,
    Revocation,
    SignedEnvelope,
    VerificationEvent,
    check_signatures,
    parse_record,
)
from registry_client.registry import (
    ITEM,
    KEY,
    NotRegisteredError,
    VerifiedRecord,
    check_product,
    verify_lookup,
)
from registry_client.tiles import (
    TILE_WIDTH,
    Tile,
    TileHashes,
    tile_for_node,
    tiles_for_inclusion,
)

StrPath = str | os.PathLike[str]

FORMAT = "hallmark-bundle/v1"
"""The manifest's ``format`` value."""
MAGIC = b"hallmark-bundle/v1\n"
"""The first bytes of every bundle file."""
MAX_BUNDLE_SIZE = 4 * 1024**3
"""Largest bundle file read, in bytes."""
MAX_MEMBERS = 4_000_000
"""Most members a bundle may hold."""
MAX_NAME_SIZE = 128
"""Longest member name, in bytes."""
MAX_MANIFEST_SIZE = 16 * 1024 * 1024
"""Largest manifest note, in bytes (an item list may be long)."""
MAX_CHECKPOINT_SIZE = 64 * 1024
"""Largest checkpoint note, in bytes."""

CHECKPOINT = "checkpoint"
POLICY = "policy"
MANIFEST = "manifest"
_ENTRY_PREFIX = "entry/"
_BLOB_PREFIX = "blob/"
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_HEX_DIGITS = frozenset("0123456789abcdef")
_T = TypeVar("_T")
_CHECK_CHUNK = 4096
"""Records whose signatures are checked together: well within `records`' remembered
results, so each is still remembered when its record is opened."""


class BundleFormatError(RecordFormatError):
    """The file is not a well-formed bundle: foreign, truncated, over a limit, or its
    members disagree with the manifest (``field`` names the member when there is one)."""


class BundleDigestError(VerificationError):
    """The bundle's bytes do not hash to the SHA-256 its signed manifest states."""

    def __init__(self, *, expected: bytes, calculated: bytes) -> None:
        super().__init__(
            f"bundle members hash to {calculated.hex()}, the signed manifest says {expected.hex()}"
        )
        self.expected = expected
        self.calculated = calculated


class ReadOnlyBundleError(RegistryError):
    """An offline bundle was asked to register a record; it is read-only."""


# --- Selection and manifest ----------------------------------------------------------------


class SelectionKind(StrEnum):
    """What a bundle's selection matches product records by."""

    MANUFACTURER = "manufacturer"
    SKU = "sku"
    BATCH = "batch"
    ITEMS = "items"


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """The product records a bundle covers: those whose ``kind`` field is in ``values``.

    ``MANUFACTURER`` values are key references (``name+hash``), ``ITEMS`` values items
    as ``(01)<GTIN>(21)<serial>`` (`item.ItemId`).
    """

    kind: SelectionKind
    values: tuple[str, ...]
    _wanted: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"{self.kind} selection is empty; want at least one value")
        if not all(isinstance(v, str) and v for v in self.values):
            raise ValueError(f"{self.kind} selection values must be non-empty strings")
        wanted = frozenset(self.values)
        if len(wanted) != len(self.values):
            raise ValueError(f"{self.kind} selection lists a value twice")
        parse: Callable[[str], object] | None = {
            SelectionKind.MANUFACTURER: KeyId.parse,
            SelectionKind.ITEMS: ItemId.parse,
        }.get(self.kind)
        if parse is not None:
            for value in self.values:
                parse(value)
        object.__setattr__(self, "_wanted", wanted)

    def matches(self, record: ProductRecord) -> bool:
        """Whether ``record`` is covered."""
        value: str | None
        match self.kind:
            case SelectionKind.MANUFACTURER:
                value = record.manufacturer.format()
            case SelectionKind.SKU:
                value = record.sku
            case SelectionKind.BATCH:
                value = record.batch
            case SelectionKind.ITEMS:
                value = record.item.format()
        return value in self._wanted

    def describe(self) -> str:
        """``sku SKU-1`` or ``3 items``: a one-line description for people."""
        if self.kind is SelectionKind.ITEMS:
            return f"{len(self.values)} items"
        return f"{self.kind} {', '.join(self.values)}"

    def to_json(self) -> JSONValue:
        return {"kind": self.kind.value, "values": list(self.values)}

    @classmethod
    def from_json(cls, value: JSONValue) -> Selection:
        obj = _object(value, "selection")
        kind = _get(obj, "kind", str, "selection")
        values = _get(obj, "values", list, "selection")
        if kind not in {k.value for k in SelectionKind}:
            raise BundleFormatError(
                f"kind {kind!r}, want one of {[k.value for k in SelectionKind]}"
            )
        if not all(isinstance(v, str) for v in values):
            raise BundleFormatError("values must be strings", field="selection")
        try:
            return cls(kind=SelectionKind(kind), values=tuple(str(v) for v in values))
        except ValueError as exc:
            raise BundleFormatError(str(exc), field="selection") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Counts:
    """How many of each member a bundle holds."""

    records: int
    """Product records (one per item)."""
    entries: int
    """Ledger entries: the product records, plus their key events and revocations."""
    templates: int
    tiles: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """What the exporter signs: selection, validity window, checkpoint, counts, digest.

    ``created ≤ warn_after ≤ expires``, all whole seconds in UTC. ``content_sha256`` is
    the SHA-256 of every byte between the magic and the manifest member.
    """

    created: datetime
    warn_after: datetime
    expires: datetime
    selection: Selection
    checkpoint: Checkpoint
    counts: Counts
    content_sha256: bytes

    def __post_init__(self) -> None:
        for name in ("created", "warn_after", "expires"):
            when: datetime = getattr(self, name)
            if when.utcoffset() != timedelta(0) or when.microsecond:
                raise ValueError(f"{name} is {when.isoformat()}, want whole seconds in UTC")
        if not self.created <= self.warn_after <= self.expires:
            raise ValueError(
                f"want created ≤ warn_after ≤ expires, got {self.created.isoformat()}, "
                f"{self.warn_after.isoformat()}, {self.expires.isoformat()}"
            )
        if len(self.content_sha256) != HASH_SIZE:
            raise ValueError(f"content digest is {len(self.content_sha256)} bytes, want 32")

    def to_json(self) -> bytes:
        """The manifest as canonical JSON (RFC 8785 style, see `records.canonical_json`)."""
        c = self.checkpoint
        return canonical_json(
            {
                "format": FORMAT,
                "created": int(self.created.timestamp()),
                "warn_after": int(self.warn_after.timestamp()),
                "expires": int(self.expires.timestamp()),
                "selection": self.selection.to_json(),
                "checkpoint": {
                    "origin": c.origin,
                    "size": c.size,
                    "root": encode_base64(c.root_hash),
                },
                "counts": {
                    "records": self.counts.records,
                    "entries": self.counts.entries,
                    "templates": self.counts.templates,
                    "tiles": self.counts.tiles,
                },
                "content_sha256": self.content_sha256.hex(),
            }
        )

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        """Parse the manifest's canonical JSON; raises `BundleFormatError`."""
        try:
            obj = _object(load_canonical_json(data, limit=MAX_MANIFEST_SIZE), "manifest")
        except RecordFormatError as exc:
            raise BundleFormatError(exc.reason, field=MANIFEST) from exc
        if (version := obj.get("format")) != FORMAT:
            raise BundleFormatError(f"format {version!r}, want {FORMAT!r}", field=MANIFEST)
        point = _object(obj.get("checkpoint"), "checkpoint")
        counts = _object(obj.get("counts"), "counts")
        digest = _get(obj, "content_sha256", str, MANIFEST)
        try:
            return cls(
                created=_time(obj, "created"),
                warn_after=_time(obj, "warn_after"),
                expires=_time(obj, "expires"),
                selection=Selection.from_json(obj.get("selection")),
                checkpoint=Checkpoint(
                    origin=_get(point, "origin", str, "checkpoint"),
                    size=_get(point, "size", int, "checkpoint"),
                    root_hash=decode_base64(_get(point, "root", str, "checkpoint")),
                ),
                counts=Counts(**{k: _get(counts, k, int, "counts") for k in _COUNT_FIELDS}),
                content_sha256=bytes.fromhex(digest) if set(digest) <= _HEX_DIGITS else b"",
            )
        except ValueError as exc:
            raise BundleFormatError(str(exc), field=MANIFEST) from exc


_COUNT_FIELDS = ("records", "entries", "templates", "tiles")


def _object(value: JSONValue, where: str) -> dict[str, JSONValue]:
    if not isinstance(value, dict):
        raise BundleFormatError("want a JSON object", field=where)
    return value


def _get(obj: Mapping[str, JSONValue], name: str, kind: type[_T], where: str) -> _T:
    value = obj.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BundleFormatError(f"{name} is {value!r:.40}, want a {kind.__name__}", field=where)
    return value


def _time(obj: Mapping[str, JSONValue], name: str) -> datetime:
    seconds = _get(obj, name, int, MANIFEST)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise BundleFormatError(f"{name} {seconds} is not a time", field=MANIFEST) from exc


# --- Container -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Members:
    """A bundle's members by kind, as read (nothing verified yet)."""

    checkpoint: bytes | None = None
    policy: bytes | None = None
    tiles: dict[Tile, bytes] = field(default_factory=dict)
    entries: dict[int, bytes] = field(default_factory=dict)
    blobs: dict[bytes, bytes] = field(default_factory=dict)
    manifest: bytes = b""
    content_sha256: bytes = b""


def _member_limit(name: str) -> int:
    """The largest size a member called ``name`` may have; `BundleFormatError` if unknown."""
    if name in (CHECKPOINT, MANIFEST):
        return MAX_CHECKPOINT_SIZE if name == CHECKPOINT else MAX_MANIFEST_SIZE
    if name == POLICY:
        return MAX_POLICY_SIZE
    if name.startswith(_ENTRY_PREFIX):
        _entry_index(name)
        return MAX_ENVELOPE_SIZE
    if name.startswith(_BLOB_PREFIX):
        _blob_digest(name)
        return MAX_TEMPLATE_SIZE
    try:
        return Tile.from_path(name).width * HASH_SIZE
    except ValueError as exc:
        raise BundleFormatError(f"unknown member name {name!r}") from exc


def _entry_index(name: str) -> int:
    digits = name.removeprefix(_ENTRY_PREFIX)
    if not digits.isascii() or not digits.isdigit() or (digits != "0" and digits[0] == "0"):
        raise BundleFormatError(f"member {name!r}: want entry/<decimal leaf index>")
    return int(digits)


def _blob_digest(name: str) -> bytes:
    digits = name.removeprefix(_BLOB_PREFIX)
    if len(digits) != 2 * HASH_SIZE or not set(digits) <= _HEX_DIGITS:
        raise BundleFormatError(f"member {name!r}: want blob/<64 lowercase hex digits>")
    return bytes.fromhex(digits)


def _read_exactly(file: BinaryIO, size: int, what: str, offset: int) -> bytes:
    data = file.read(size)
    if len(data) != size:
        raise BundleFormatError(
            f"truncated: {what} at byte {offset} needs {size} bytes, the file has {len(data)} more"
        )
    return data


def _read_members(path: Path) -> _Members:
    """Split a bundle file into its members, checking every size before reading."""
    members = _Members()
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_BUNDLE_SIZE:
            raise BundleFormatError(f"file is {size} bytes, want at most {MAX_BUNDLE_SIZE}")
        magic = file.read(len(MAGIC))
        if magic != MAGIC:
            raise BundleFormatError(f"not a Hallmark bundle: starts {magic!r}, want {MAGIC!r}")
        digest = hashlib.sha256()
        offset, count = len(MAGIC), 0
        while True:
            head = file.read(_U16.size)
            if not head:
                raise BundleFormatError(f"truncated: the file ends at byte {offset}, no manifest")
            if len(head) < _U16.size:
                raise BundleFormatError(f"truncated: member header at byte {offset}")
            (name_size,) = _U16.unpack(head)
            if not 1 <= name_size <= MAX_NAME_SIZE:
                raise BundleFormatError(
                    f"member name at byte {offset} is {name_size} bytes, want 1 to {MAX_NAME_SIZE}"
                )
            raw_name = _read_exactly(file, name_size, "member name", offset)
            try:
                name = raw_name.decode("ascii")
            except UnicodeDecodeError as exc:
                raise BundleFormatError(f"member name at byte {offset} is not ASCII") from exc
            raw_size = _read_exactly(file, _U32.size, f"size of {name}", offset)
            (data_size,) = _U32.unpack(raw_size)
            limit = _member_limit(name)
            if data_size > limit or (name.startswith("tile/") and data_size != limit):
                want = f"exactly {limit}" if name.startswith("tile/") else f"at most {limit}"
                raise BundleFormatError(f"{data_size} bytes, want {want}", field=name)
            data = _read_exactly(file, data_size, name, offset)
            if name == MANIFEST:
                if trailing := file.read(1):
                    raise BundleFormatError(f"bytes after the manifest: {trailing!r}…")
                members.manifest, members.content_sha256 = data, digest.digest()
                return members
            digest.update(head + raw_name + raw_size + data)
            _add_member(members, name, data)
            offset += len(head) + name_size + len(raw_size) + data_size
            count += 1
            if count > MAX_MEMBERS:
                raise BundleFormatError(f"more than {MAX_MEMBERS} members")


def _add_member(members: _Members, name: str, data: bytes) -> None:
    if name == CHECKPOINT and members.checkpoint is None:
        members.checkpoint = data
    elif name == POLICY and members.policy is None:
        members.policy = data
    elif name.startswith(_ENTRY_PREFIX) and _entry_index(name) not in members.entries:
        members.entries[_entry_index(name)] = data
    elif name.startswith(_BLOB_PREFIX) and _blob_digest(name) not in members.blobs:
        members.blobs[_blob_digest(name)] = data
    elif name.startswith("tile/") and Tile.from_path(name) not in members.tiles:
        members.tiles[Tile.from_path(name)] = data
    else:
        raise BundleFormatError("member appears twice", field=name)


class _Writer:
    """Writes members after the magic, hashing them for the manifest."""

    __slots__ = ("_digest", "_file")

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._digest = hashlib.sha256()
        file.write(MAGIC)

    def add(self, name: str, data: bytes) -> None:
        raw = name.encode("ascii")
        chunk = _U16.pack(len(raw)) + raw + _U32.pack(len(data))
        self._file.write(chunk)
        self._file.write(data)
        self._digest.update(chunk)
        self._digest.update(data)

    def content_sha256(self) -> bytes:
        return self._digest.digest()

    def finish(self, manifest: bytes) -> None:
        raw = MANIFEST.encode("ascii")
        self._file.write(_U16.pack(len(raw)) + raw + _U32.pack(len(manifest)) + manifest)


@contextmanager
def _atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file that replaces ``path`` only once fully written and ``fsync``'d."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("wb", buffering=1 << 20) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


# --- What a bundle holds, checked the same way on export and open --------------------------


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
class _Indexes:
    by_item: dict[ItemId, tuple[int, ...]]
    by_key: dict[str, tuple[int, ...]]
    templates: dict[bytes, bytes]
    records: int


@dataclass(frozen=True, slots=True)
class _Entry:
    """An entry's bytes, envelope and record; the signature not yet checked."""

    data: bytes
    envelope: SignedEnvelope
    record: Record

    @classmethod
    def peek(cls, index: int, data: bytes) -> _Entry:
        try:
            envelope = SignedEnvelope.parse(data)
            return cls(data, envelope, parse_record(envelope.payload))
        except RecordFormatError as exc:
            raise BundleFormatError(exc.reason, field=f"{_ENTRY_PREFIX}{index}") from exc


def _check_contents(
    peeked: Mapping[int, _Entry],
    template: Callable[[bytes], bytes | None],
    policy: TrustPolicy,
    selection: Selection,
) -> _Indexes:
    """Check that the entries are one selected product record per item, with their
    revocations and key events, each product validly signed by an unrevoked policy key
    and matched by its template (`registry.check_product`); returns their indexes and
    the templates, each looked up by its SHA-256 with ``template``."""
    by_item: defaultdict[ItemId, list[int]] = defaultdict(list)
    by_key: defaultdict[str, list[int]] = defaultdict(list)
    for i in sorted(peeked):
        record = peeked[i].record
        if isinstance(record, KeyEvent):
            by_key[KeyId.of(record.key).format()].append(i)
        elif isinstance(record, ProductRecord | Revocation):
            by_item[record.item].append(i)
        else:
            raise BundleFormatError(
                f"a {record.TYPE} record; bundles hold products, revocations and key events",
                field=f"{_ENTRY_PREFIX}{i}",
            )
    revoking = {
        key: [peeked[i].data for i in indexes if _revokes(peeked[i].record)]
        for key, indexes in by_key.items()
    }
    templates: dict[bytes, bytes] = {}
    used_keys: set[str] = set()
    for n, (item, indexes) in enumerate(by_item.items()):
        if n % _CHECK_CHUNK == 0:  # the next chunk's signatures, together on every core
            chunk = itertools.islice(by_item.values(), n, n + _CHECK_CHUNK)
            envelopes = [peeked[i].envelope for leaves in chunk for i in leaves]
            check_signatures(envelopes, policy.manufacturers)
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
                field=f"{_ENTRY_PREFIX}{index}",
            )
        blob = template(record.template_sha256)
        if blob is None:
            raise BundleFormatError(
                f"template of item {item} is missing",
                field=f"{_BLOB_PREFIX}{record.template_sha256.hex()}",
            )
        key = record.manufacturer.format()
        check_product(envelope, blob, policy, revoking.get(key, ()))
        templates[record.template_sha256] = blob
        used_keys.add(key)
    if extra_keys := sorted(set(by_key) - used_keys):
        raise BundleFormatError(f"key events for {extra_keys[0]}, which signed no bundled record")
    return _Indexes(
        by_item={s: tuple(v) for s, v in by_item.items()},
        by_key={k: tuple(v) for k, v in by_key.items()},
        templates=templates,
        records=len(by_item),
    )


def _revokes(record: Record) -> bool:
    return isinstance(record, KeyEvent) and record.action is KeyAction.REVOKE


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


def _prove_entries(
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


# --- Export --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BundleSummary:
    """What `export_bundle` wrote."""

    path: Path
    manifest: Manifest
    size_bytes: int
    exporter: VerifierKey


def export_bundle(
    source: Ledger | StrPath,
    out: StrPath,
    selection: Selection,
    *,
    policy: TrustPolicy,
    signer: SignerKey,
    expires: timedelta,
    warn_after: timedelta | None = None,
    checkpoint_note: str | None = None,
    now: datetime | None = None,
) -> BundleSummary:
    """Write a signed bundle of the records ``selection`` names in ``source`` to ``out``.

    ``source`` is an open `Ledger` or a ledger folder (opened read-only with the
    ``policy`` log key that signed it). ``checkpoint_note`` may replace the ledger's
    checkpoint note by the same checkpoint with witness cosignatures. The bundle is
    valid for ``expires`` from ``now`` and stale after ``warn_after`` (default: half of
    that). Everything is checked as `open_bundle` will check it: the checkpoint against
    ``policy`` and each record's signature, key and template. ``signer`` (Ed25519) must
    be a log or manufacturer key of the policies that will open the bundle. Writes
    atomically (temporary file, ``fsync``, rename). Raises ``LookupError`` if nothing
    matches, and the `VerificationError` of the first failed check.
    """
    if signer.key_type is not KeyType.ED25519:
        raise ValueError(f"bundle signer key type is {signer.key_type.name}, want ED25519")
    if expires <= timedelta(0):
        raise ValueError(f"expires is {expires}, want a positive duration")
    warn_after = expires / 2 if warn_after is None else warn_after
    if not timedelta(0) <= warn_after <= expires:
        raise ValueError(f"warn_after is {warn_after}, want 0 ≤ warn_after ≤ {expires}")
    created = _whole_seconds(now)
    with _ledger(source, policy) as ledger:
        note = ledger.checkpoint_note if checkpoint_note is None else checkpoint_note
        checkpoint = policy.verify_checkpoint(note).checkpoint
        if checkpoint != ledger.checkpoint:
            raise CheckpointError(
                f"checkpoint note is for size {checkpoint.size} root "
                f"{checkpoint.root_hash.hex()}, the ledger holds size {ledger.size} root "
                f"{ledger.checkpoint.root_hash.hex()}"
            )
        peeked = _selected_entries(ledger, selection)
        stored = ledger.blobs(
            e.record.template_sha256 for e in peeked.values() if isinstance(e.record, ProductRecord)
        )
        indexes = _check_contents(peeked, stored.get, policy, selection)
        tiles = {t: ledger.read(t.path) for t in tiles_for_entries(peeked, checkpoint.size)}
    entries, blobs = {i: e.data for i, e in peeked.items()}, indexes.templates
    path = Path(out)
    with _atomic_file(path) as file:
        writer = _Writer(file)
        writer.add(CHECKPOINT, note.encode())
        writer.add(POLICY, policy.format().encode())
        for tile in sorted(tiles, key=lambda t: (t.level, t.index)):
            writer.add(tile.path, tiles[tile])
        for i in sorted(entries):
            writer.add(f"{_ENTRY_PREFIX}{i}", entries[i])
        for sha in sorted(blobs):
            writer.add(_BLOB_PREFIX + sha.hex(), blobs[sha])
        manifest = Manifest(
            created=created,
            warn_after=created + _whole(warn_after),
            expires=created + _whole(expires),
            selection=selection,
            checkpoint=checkpoint,
            counts=Counts(
                records=indexes.records,
                entries=len(entries),
                templates=len(blobs),
                tiles=len(tiles),
            ),
            content_sha256=writer.content_sha256(),
        )
        text = manifest.to_json().decode() + "\n"
        writer.finish(Note(text=text, signatures=(signer.sign(text),)).format().encode())
    return BundleSummary(
        path=path, manifest=manifest, size_bytes=path.stat().st_size, exporter=signer.verifier
    )


@contextmanager
def _ledger(source: Ledger | StrPath, policy: TrustPolicy) -> Iterator[Ledger]:
    """``source`` itself, or the ledger folder opened read-only with its policy log key."""
    if isinstance(source, Ledger):
        yield source
        return
    failures: list[str] = []
    for log in policy.logs:
        try:
            ledger = Ledger.open(source, log.key)
        except (SignatureError, CheckpointError) as exc:
            failures.append(str(exc))
            continue
        with ledger:
            yield ledger
        return
    raise SignatureError(f"{source}: no policy log key opens the ledger: {'; '.join(failures)}")


def _selected_entries(ledger: Ledger, selection: Selection) -> dict[int, _Entry]:
    """The first product record of each selected item, with the item's revocations
    and the key events of each record's manufacturer key."""
    if selection.kind is SelectionKind.ITEMS:
        found = ledger.find_many(ITEM, selection.values)
        indexes: Iterable[int] = sorted({i for leaves in found.values() for i in leaves})
    else:
        indexes = range(ledger.size)
    seen: set[ItemId] = set()
    products: dict[int, _Entry] = {}
    for i, data in _read_entries(ledger, indexes):
        try:
            entry = _Entry.peek(i, data)
        except BundleFormatError:
            continue  # not a record: no selection matches it
        record = entry.record
        if isinstance(record, ProductRecord) and record.item not in seen:
            seen.add(record.item)
            if selection.matches(record):
                products[i] = entry
    if not products:
        raise LookupError(
            f"{selection.describe()} matches no product record in the log of size {ledger.size}"
        )
    records = [e.record for e in products.values() if isinstance(e.record, ProductRecord)]
    related = {
        *(
            i
            for leaves in ledger.find_many(ITEM, (r.item.format() for r in records)).values()
            for i in leaves
        ),
        *(i for k in {r.manufacturer.format() for r in records} for i in ledger.find(KEY, k)),
    }
    others = {
        i: entry
        for i, data in _read_entries(ledger, sorted(related - products.keys()))
        if isinstance((entry := _Entry.peek(i, data)).record, Revocation | KeyEvent)
    }
    return {**others, **products}


def _read_entries(ledger: Ledger, indexes: Iterable[int]) -> Iterator[tuple[int, bytes]]:
    """The entries at ascending ``indexes``, reading each level-0 tile's bundle once."""
    pending: list[int] = []
    for i in (*indexes, None):
        if pending and (i is None or i // TILE_WIDTH != pending[0] // TILE_WIDTH):
            first = pending[0]
            run = ledger.entries(first, pending[-1] + 1)
            yield from ((j, run[j - first]) for j in pending)
            pending.clear()
        if i is not None:
            pending.append(i)


def _whole_seconds(now: datetime | None) -> datetime:
    when = datetime.now(UTC) if now is None else now
    if when.utcoffset() is None:
        raise ValueError(f"time {when.isoformat()} is naive; want a timezone-aware datetime")
    return when.astimezone(UTC).replace(microsecond=0)


def _whole(duration: timedelta) -> timedelta:
    return timedelta(seconds=int(duration.total_seconds()))


# --- Open ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Bundle:
    """A bundle whose every check passed at ``checked_at``: see `open_bundle`."""

    path: Path
    manifest: Manifest
    checkpoint: VerifiedCheckpoint
    exporter: VerifierKey
    """The policy key that signed the manifest."""
    policy: TrustPolicy
    """The verifier's policy it was checked against."""
    bundled_policy: str
    """The exporter's policy text, as bundled (informative)."""
    checked_at: datetime
    log: BundleLog = field(repr=False)

    @property
    def selection(self) -> Selection:
        """What the bundle covers."""
        return self.manifest.selection

    @property
    def stale(self) -> bool:
        """Whether it was past its ``warn_after`` time when checked: warn the user."""
        return self.checked_at >= self.manifest.warn_after

    @property
    def age(self) -> timedelta:
        """Time from export to the check."""
        return self.checked_at - self.manifest.created

    @property
    def witnessed_at(self) -> datetime | None:
        """The newest witness cosignature time of the checkpoint, if cosigned."""
        stamps = [c.timestamp for c in self.checkpoint.cosignatures if c.timestamp is not None]
        return datetime.fromtimestamp(max(stamps), UTC) if stamps else None


def open_bundle(path: StrPath, policy: TrustPolicy, *, now: datetime | None = None) -> Bundle:
    """Read and verify the bundle at ``path`` against the verifier's ``policy``.

    Returns a `Bundle` only if every check passes (see the module docstring); ``now``
    (default: the clock) decides expiry and staleness. Raises `BundleFormatError`
    (foreign, truncated, over a limit, inconsistent), `SignatureError` (manifest,
    checkpoint or record signature), `ExpiredBundleError`, `CheckpointError` (quorum,
    manifest mismatch), `ProofError` (tile or entry), `RevokedKeyError`,
    `registry.TemplateMismatchError`, or `BundleDigestError`.
    """
    checked_at = _whole_seconds(now)
    members = _read_members(Path(path))
    exporter_keys = [log.key for log in policy.logs] + list(policy.manufacturers)
    try:
        signed = Note.parse(members.manifest)
        exporter = signed.verify(exporter_keys)[0].key
    except SignatureError as exc:
        raise SignatureError(f"bundle manifest: {exc}", key=exc.key) from exc
    manifest = Manifest.parse(signed.text.removesuffix("\n").encode())
    if signed.text != manifest.to_json().decode() + "\n":
        raise BundleFormatError("manifest text is not its canonical JSON and a newline")
    if checked_at >= manifest.expires:
        raise ExpiredBundleError(expires_at=manifest.expires, now=checked_at)
    if members.checkpoint is None or members.policy is None:
        raise BundleFormatError(f"want one {CHECKPOINT} and one {POLICY} member")
    checkpoint = policy.verify_checkpoint(members.checkpoint)
    if checkpoint.checkpoint != manifest.checkpoint:
        raise CheckpointError(
            f"checkpoint is size {checkpoint.checkpoint.size} root "
            f"{checkpoint.checkpoint.root_hash.hex()}, the manifest says size "
            f"{manifest.checkpoint.size} root {manifest.checkpoint.root_hash.hex()}"
        )
    tiles = _prove_entries(members.tiles, members.entries, checkpoint.checkpoint)
    peeked = {i: _Entry.peek(i, data) for i, data in members.entries.items()}
    indexes = _check_contents(peeked, members.blobs.get, policy, manifest.selection)
    if extra := sorted(members.blobs.keys() - indexes.templates.keys()):
        raise BundleFormatError(
            "no record names this template", field=_BLOB_PREFIX + extra[0].hex()
        )
    counts = Counts(
        records=indexes.records,
        entries=len(members.entries),
        templates=len(members.blobs),
        tiles=len(members.tiles),
    )
    if counts != manifest.counts:
        raise BundleFormatError(f"holds {counts}, the manifest says {manifest.counts}")
    if members.content_sha256 != manifest.content_sha256:
        raise BundleDigestError(expected=manifest.content_sha256, calculated=members.content_sha256)
    try:
        bundled_policy = members.policy.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleFormatError("not UTF-8", field=POLICY) from exc
    return Bundle(
        path=Path(path),
        manifest=manifest,
        checkpoint=checkpoint,
        exporter=exporter,
        policy=policy,
        bundled_policy=bundled_policy,
        checked_at=checked_at,
        log=BundleLog(members.entries, members.blobs, tiles, indexes.by_item, indexes.by_key),
    )


def read_bundled_policy(path: StrPath) -> TrustPolicy:
    """The exporter's policy inside the bundle at ``path``, parsed but NOT trusted.

    A bundle that verifies under its own policy is intact, not trustworthy: anyone can
    make one. Raises `BundleFormatError` or `RecordFormatError`.
    """
    members = _read_members(Path(path))
    if members.policy is None:
        raise BundleFormatError(f"no {POLICY} member")
    return TrustPolicy.parse(members.policy)


# --- Registry over a bundle ----------------------------------------------------------------


class Outbox:
    """Verification events queued while offline, for `client.HttpRegistry` to send.

    A text file of one `SignedEnvelope` (canonical JSON) per line, appended and
    ``fsync``'d per event; a line cut short by a crash was never acknowledged and is
    ignored. Nothing is read or created until first used.
    """

    __slots__ = ("_mutex", "path")

    def __init__(self, path: StrPath) -> None:
        self.path = Path(path)
        self._mutex = threading.Lock()

    def append(self, envelope: SignedEnvelope) -> None:
        """Queue a `VerificationEvent` envelope durably; `RecordFormatError` for others."""
        record = parse_record(envelope.payload)
        if not isinstance(record, VerificationEvent):
            raise RecordFormatError(f"got a {record.TYPE} record, want {VerificationEvent.TYPE}")
        with self._mutex:
            new = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, envelope.format() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            if new:
                _sync_directory(self.path.parent)

    def pending(self) -> tuple[SignedEnvelope, ...]:
        """The queued envelopes, oldest first."""
        with self._mutex:
            return self._read()

    def drain(self, send: Callable[[SignedEnvelope], object]) -> int:
        """Call ``send`` on each queued envelope in order, dropping each one sent.

        If ``send`` raises, the envelopes not yet sent stay queued and the error
        propagates. Returns the number sent.
        """
        with self._mutex:
            queued = self._read()
            sent = 0
            try:
                for envelope in queued:
                    send(envelope)
                    sent += 1
            finally:
                if sent:
                    rest = b"".join(e.format() + b"\n" for e in queued[sent:])
                    with _atomic_file(self.path) as file:
                        file.write(rest)
            return sent

    def _read(self) -> tuple[SignedEnvelope, ...]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return ()
        lines = data.split(b"\n")[:-1]  # the last piece is empty or a torn write
        out: list[SignedEnvelope] = []
        for number, line in enumerate(lines, start=1):
            try:
                out.append(SignedEnvelope.parse(line))
            except RecordFormatError as exc:
                raise RecordFormatError(exc.reason, field=f"{self.path} line {number}") from exc
        return tuple(out)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BundleRegistry:
    """The `registry.Registry` of an offline inspector: lookups from a verified bundle.

    Makes no network call at all. Lookups go through `registry.verify_lookup` over the
    bundled entries, so they are checked exactly as online ones; after the bundle's
    expiry (by ``clock``) they fail closed. `append_event` queues to ``outbox`` for a
    later `client.HttpRegistry` sync; `register` is refused.
    """

    __slots__ = ("_clock", "bundle", "outbox")

    def __init__(
        self,
        bundle: Bundle,
        outbox: Outbox,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.bundle = bundle
        self.outbox = outbox
        self._clock = clock

    def register(self, envelope: SignedEnvelope, template: bytes) -> int:
        """Always raises `ReadOnlyBundleError`: a bundle cannot log records."""
        raise ReadOnlyBundleError(
            f"{self.bundle.path} is a read-only offline bundle; register with the ledger "
            "or an HTTP registry"
        )

    def lookup(self, item: ItemId) -> VerifiedRecord:
        """The verified record for ``item`` from the bundle.

        Raises `ExpiredBundleError` once the bundle has expired, `NotRegisteredError`
        for an item the bundle does not cover, and what `verify_lookup` raises.
        """
        now = _whole_seconds(self._clock())
        if now >= self.bundle.manifest.expires:
            raise ExpiredBundleError(expires_at=self.bundle.manifest.expires, now=now)
        try:
            return verify_lookup(item, self.bundle.log, self.bundle.checkpoint, self.bundle.policy)
        except NotRegisteredError as exc:
            manifest = self.bundle.manifest
            source = (
                f"bundle {self.bundle.path.name} ({manifest.selection.describe()}, "
                f"log size {manifest.checkpoint.size})"
            )
            raise NotRegisteredError(item, source=source) from exc

    def append_event(self, envelope: SignedEnvelope) -> int | None:
        """Queue a verification event in the outbox; ``None`` (it has no leaf index yet)."""
        self.outbox.append(envelope)
        return None

    def sync(self) -> int:
        """Send nothing (offline): 0 if the outbox is empty, else `RegistryUnavailable`."""
        if queued := len(self.outbox.pending()):
            raise RegistryUnavailable(
                f"offline bundle cannot send {queued} queued events; sync {self.outbox.path} "
                "with an HTTP registry"
            )
        return 0

    def checkpoint(self) -> Checkpoint:
        """The bundle's verified checkpoint."""
        return self.bundle.checkpoint.checkpoint

    def close(self) -> None:
        """Nothing to release: the bundle was read whole when opened."""
