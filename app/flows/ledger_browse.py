"""Browse a registry's log: entries page by page, search, consistency check and audit.

The Ledger page reads a ledger folder or an HTTP registry through `LogView`. Listing is
a fast read of entry bundles, one tile (256 entries) at a time: records are parsed but
not verified (`Row` says what an entry claims). Opening an item goes through
`Registry.lookup`, which proves the record and every entry logged for the item.
`check_log` verifies the newest checkpoint and its consistency with the last one this
computer saw (RFC 9162 §2.1.4, the split-view defence); with ``full`` it also recomputes
every tile and the root from the entries (``hallmark log verify``).
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from registry_client.audit import AuditReport
from registry_client.checkpoint import Checkpoint
from registry_client.client import MAX_BUNDLE_SIZE, HttpRegistry, open_registry
from registry_client.embedded import EmbeddedRegistry, read_policy
from registry_client.errors import RecordFormatError
from registry_client.item import ItemId
from registry_client.policy import TrustPolicy
from registry_client.records import (
    KeyEvent,
    ProductRecord,
    SignedEnvelope,
    VerificationEvent,
    parse_record,
)
from registry_client.registry import ITEM, CheckpointStore
from registry_client.tiles import TILE_WIDTH, parse_entry_bundle, tile_for_node

PAGE = TILE_WIDTH
"""Entries read at a time: one entry bundle."""


class Kind(enum.StrEnum):
    """What a log entry holds; the value is what the table shows."""

    PRODUCT = "product"
    EVENT = "verification"
    REVOCATION = "revocation"
    KEY = "key event"
    UNREADABLE = "unreadable"


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """What log entry ``leaf`` claims (signature and inclusion not checked)."""

    leaf: int
    kind: Kind
    item: ItemId | None = None
    time: datetime | None = None
    signer: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogView:
    """An open registry to browse: a ledger folder or an HTTP registry, and its policy."""

    registry: EmbeddedRegistry | HttpRegistry
    policy: TrustPolicy
    state_dir: Path
    """Where the last checkpoint seen of each log is remembered."""
    name: str

    def close(self) -> None:
        """Close the registry."""
        self.registry.close()


def open_view(target: str, policy_file: Path | None, state_dir: Path) -> LogView:
    """Open a ledger folder or ``http(s)://`` registry to browse.

    A URL needs ``policy_file``; a folder defaults to its own policy. Raises
    ``ValueError`` for anything else (a bundle is inspected, not browsed).
    """
    if not target.startswith(("http://", "https://")) and not Path(target).is_dir():
        raise ValueError(f"{target}: want a ledger folder or a registry URL")
    policy = read_policy(policy_file) if policy_file is not None else None
    registry = open_registry(target, policy, state_dir)
    if isinstance(registry, EmbeddedRegistry):
        policy = registry.policy
    assert isinstance(registry, EmbeddedRegistry | HttpRegistry) and policy is not None
    return LogView(registry=registry, policy=policy, state_dir=state_dir, name=target)


def view_of(registry: EmbeddedRegistry, state_dir: Path, *, name: str) -> LogView:
    """A `LogView` over a ledger already open (the caller closes it)."""
    return LogView(registry=registry, policy=registry.policy, state_dir=state_dir, name=name)


def size(view: LogView) -> int:
    """The tree size of the newest checkpoint (verified, consistent with the last seen)."""
    return view.registry.checkpoint().size


def rows(view: LogView, start: int, stop: int) -> tuple[Row, ...]:
    """Rows for leaves ``start`` to ``stop − 1`` (at most one page is read per call)."""
    return tuple(describe(i, e) for i, e in enumerate(_entries(view, start, stop), start))


def describe(leaf: int, entry: bytes) -> Row:
    """What ``entry`` claims to be, unverified; `Kind.UNREADABLE` if it does not parse."""
    try:
        envelope = SignedEnvelope.parse(entry)
        record = parse_record(envelope.payload)
    except RecordFormatError as exc:
        return Row(leaf=leaf, kind=Kind.UNREADABLE, detail=str(exc))
    if isinstance(record, KeyEvent):
        kind, item, detail = Kind.KEY, None, f"{record.action.value} {record.key.reference}"
    elif isinstance(record, ProductRecord):
        kind, item = Kind.PRODUCT, record.item
        detail = f"batch {record.batch}" if record.batch else "no batch"
    elif isinstance(record, VerificationEvent):
        kind, item = Kind.EVENT, record.item
        where = f" at {record.place}" if record.place else ""
        detail = f"{record.verdict.value}, score {record.score:+.2f}{where}"
    else:
        kind, item, detail = Kind.REVOCATION, record.item, record.reason
    signer = envelope.signer.format()
    return Row(leaf=leaf, kind=kind, item=item, time=record.time, signer=signer, detail=detail)


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchStep:
    """Progress of a search: leaves scanned of ``total``, and matches in this step."""

    scanned: int
    total: int
    found: tuple[int, ...]


def search(view: LogView, query: str, cancel: threading.Event) -> Iterator[SearchStep]:
    """Scan the log for entries about items matching ``query``, a page per step.

    ``query`` is a GS1 item ``(01)<GTIN>(21)<serial>`` (looked up in a ledger folder's
    index at once), a GTIN (8 to 14 digits, padded to 14), or part of a serial
    (case-insensitive). Stops early when ``cancel`` is set.
    """
    matches = matcher(query)
    total = size(view)
    registry = view.registry
    if matches.item is not None and isinstance(registry, EmbeddedRegistry):
        # A whole item: the ledger's index has its leaves (records, events, revocations).
        found = registry.ledger.find(ITEM, matches.item.format())
        yield SearchStep(scanned=total, total=total, found=tuple(i for i in found if i < total))
        return
    for start in range(0, total, PAGE):
        if cancel.is_set():
            return
        stop = min(start + PAGE, total)
        found = tuple(r.leaf for r in rows(view, start, stop) if r.item and matches(r.item))
        yield SearchStep(scanned=stop, total=total, found=found)


def matcher(query: str) -> ItemMatcher:
    """The test `search` applies to each entry's item; ``ValueError`` for an empty query."""
    text = query.strip()
    if not text:
        raise ValueError("type a serial, a GTIN or (01)GTIN(21)serial to search for")
    if text.startswith("(01)"):
        return ItemMatcher(item=ItemId.parse(text))
    if text.isdigit() and 8 <= len(text) <= 14:
        return ItemMatcher(gtin=text.zfill(14), serial_part=text.casefold())
    return ItemMatcher(serial_part=text.casefold())


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemMatcher:
    """Whether an item is one `search` looks for."""

    item: ItemId | None = None
    gtin: str | None = None
    serial_part: str | None = None

    def __call__(self, item: ItemId) -> bool:
        if self.item is not None:
            return item == self.item
        if self.gtin is not None and item.gtin == self.gtin:
            return True
        return self.serial_part is not None and self.serial_part in item.serial.casefold()


@dataclass(frozen=True, slots=True, kw_only=True)
class LogCheck:
    """The newest checkpoint, the one remembered before it, and the audit if one ran."""

    previous: Checkpoint | None
    current: Checkpoint
    audit: AuditReport | None


def check_log(view: LogView, *, full: bool) -> LogCheck:
    """Verify the newest checkpoint and its consistency with the last one seen; with
    ``full``, audit the whole log. Raises `SplitViewError` (a fork or rollback), another
    `VerificationError`, or `RegistryUnavailable`."""
    store = CheckpointStore(view.state_dir)
    held = [c for log in view.policy.logs if (c := store.last(log.key.name)) is not None]
    current = view.registry.checkpoint()
    previous = next((c for c in held if c.origin == current.origin), None)
    report = view.registry.audit() if full else None
    return LogCheck(previous=previous, current=current, audit=report)


def _entries(view: LogView, start: int, stop: int) -> Sequence[bytes]:
    registry = view.registry
    if isinstance(registry, EmbeddedRegistry):
        return registry.ledger.entries(start, stop)
    tree = registry.checkpoint().size
    out: list[bytes] = []
    for first in range(start - start % PAGE, stop, PAGE):
        tile = tile_for_node(0, first, tree)
        bundle = parse_entry_bundle(registry.fetch(tile.entries_path, MAX_BUNDLE_SIZE), tile)
        out.extend(bundle[max(start - first, 0) : stop - first])
    return out
