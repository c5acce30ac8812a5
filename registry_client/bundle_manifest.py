"""What a bundle covers and what its exporter signs: `Selection` and `Manifest`.

The manifest is canonical JSON (`canonical`, RFC 8785 style) with ``format``,
``created``, ``warn_after``, ``expires`` (POSIX seconds), the ``selection``, the
``checkpoint`` (origin, size, root), the member ``counts`` and ``content_sha256``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from registry_client._bundle_file import HEX_DIGITS, MANIFEST, MAX_MANIFEST_SIZE, BundleFormatError
from registry_client.canonical import JSONValue, canonical_json, load_canonical_json
from registry_client.checkpoint import Checkpoint
from registry_client.errors import (
    RecordFormatError,
)
from registry_client.item import ItemId
from registry_client.merkle import HASH_SIZE
from registry_client.note import (
    KeyId,
    decode_base64,
    encode_base64,
)
from registry_client.records import (
    ProductRecord,
)

FORMAT = "hallmark-bundle/v1"
"""The manifest's ``format`` value."""
_T = TypeVar("_T")


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
                content_sha256=bytes.fromhex(digest) if set(digest) <= HEX_DIGITS else b"",
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
