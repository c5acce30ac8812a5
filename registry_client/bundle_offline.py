"""The offline inspector's registry over a verified bundle, and its outbox of events.

`BundleRegistry` makes no network call at all: lookups go through
`registry.verify_lookup` over the bundled entries and fail closed after the bundle's
expiry; `Outbox` keeps the verification events made meanwhile for a later sync.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from registry_client._bundle_file import atomic_file, sync_directory
from registry_client.checkpoint import Checkpoint
from registry_client.errors import (
    ExpiredBundleError,
    RecordFormatError,
    RegistryError,
    RegistryUnavailable,
)
from registry_client.item import ItemId
from registry_client.records import (
    SignedEnvelope,
    VerificationEvent,
    parse_record,
)
from registry_client.registry import (
    NotRegisteredError,
    VerifiedRecord,
    verify_lookup,
)

if TYPE_CHECKING:
    from registry_client.bundle import Bundle

StrPath = str | os.PathLike[str]


class ReadOnlyBundleError(RegistryError):
    """An offline bundle was asked to register a record; it is read-only."""


def whole_seconds(now: datetime | None) -> datetime:
    when = datetime.now(UTC) if now is None else now
    if when.utcoffset() is None:
        raise ValueError(f"time {when.isoformat()} is naive; want a timezone-aware datetime")
    return when.astimezone(UTC).replace(microsecond=0)


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
                sync_directory(self.path.parent)

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
                    with atomic_file(self.path) as file:
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

    def register(
        self, envelope: SignedEnvelope, template: bytes, hologram: bytes | None = None
    ) -> int:
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
        now = whole_seconds(self._clock())
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
