"""The `Registry` over a local ledger folder: what a registry server and the CLI write to.

A ledger folder made by `create_ledger` holds the C2SP tiles and index of
`ledger.Ledger`, plus ``log.skey`` (the log's signing key, mode 0600), ``log.vkey`` and
``policy`` (the manufacturers the registry accepts, tlog-policy text).
`EmbeddedRegistry` admits records and events by the same rules any verifier applies
(signatures, key succession, templates), appends them in batches, and looks items up
through the verified path every other source takes (`registry.verify_lookup`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Collection, Sequence
from pathlib import Path

from registry_client.audit import AuditReport, audit
from registry_client.checkpoint import Checkpoint, VerifiedCheckpoint
from registry_client.errors import RecordFormatError, RegistryError
from registry_client.item import ItemId
from registry_client.ledger import Ledger, NewEntry
from registry_client.note import KeyId, SignerKey, VerifierKey
from registry_client.policy import Log, TrustPolicy
from registry_client.records import (
    KeyAction,
    KeyEvent,
    ProductRecord,
    Revocation,
    SignedEnvelope,
    VerificationEvent,
    check_ahead,
    parse_record,
)
from registry_client.registry import (
    ITEM,
    KEY,
    CheckpointStore,
    DuplicateItemError,
    NotRegisteredError,
    VerifiedRecord,
    check_product,
    check_withdrawal,
    entry_keys,
    open_signed,
    verify_lookup,
)
from registry_client.succession import EventsOf, chain, known_keys

LOG_SKEY = "log.skey"
"""The log's signing key in a ledger folder (secret: mode 0600)."""
LOG_VKEY = "log.vkey"
"""The log's public key in a ledger folder."""
POLICY = "policy"
"""The registry's trust policy in a ledger folder: log key and accepted manufacturers."""

Admission = tuple[SignedEnvelope, bytes] | tuple[SignedEnvelope, bytes, bytes]
"""A product record to admit: ``(envelope, template)`` or ``(envelope, template, hologram)``."""


def create_ledger(
    path: Path,
    signer: SignerKey,
    manufacturers: Sequence[VerifierKey] = (),
    devices: Sequence[VerifierKey] = (),
) -> TrustPolicy:
    """A new ledger folder signed by ``signer``, accepting ``manufacturers``; its policy.

    With ``devices``, only those scanners may log verification events.

    The folder must be absent or empty. The policy trusts the log with no witness
    quorum (tlog-policy ``quorum none``): add witnesses to a verifier's own copy.
    """
    Ledger.create(path, signer).close()
    policy = TrustPolicy(
        logs=(Log(key=signer.verifier),),
        witnesses=(),
        groups=(),
        quorum="none",
        manufacturers=tuple(manufacturers),
        devices=tuple(devices),
    )
    skey = path / LOG_SKEY
    skey.touch(mode=0o600)
    skey.write_text(signer.format() + "\n", encoding="utf-8")
    (path / LOG_VKEY).write_text(signer.verifier.format() + "\n", encoding="utf-8")
    (path / POLICY).write_text(policy.format(), encoding="utf-8")
    return policy


def read_policy(path: Path) -> TrustPolicy:
    """The trust policy file at ``path``; `RecordFormatError` naming the file if bad."""
    try:
        return TrustPolicy.parse(path.read_bytes())
    except RecordFormatError as exc:
        raise RecordFormatError(f"{path}: {exc}") from exc


def is_ledger(path: Path) -> bool:
    """Whether ``path`` is a ledger folder made by `create_ledger`."""
    return (path / "checkpoint").is_file() and (path / LOG_SKEY).is_file()


class EmbeddedRegistry:
    """A `Registry` over a local ledger folder, writing with the log key stored in it.

    ``policy`` decides which manufacturers may register and which checkpoints lookups
    accept; lookups take the same verified path as remote ones (`verify_lookup`).
    Item uniqueness (GTIN + serial) holds within one process (the server's sequencer is one).
    """

    def __init__(self, ledger: Ledger, policy: TrustPolicy, store: CheckpointStore) -> None:
        self._ledger = ledger
        self._policy = policy
        self._store = store
        self._mutex = threading.Lock()

    @classmethod
    def open(
        cls, path: Path, state_dir: Path, policy: TrustPolicy | None = None
    ) -> EmbeddedRegistry:
        """Open the ledger folder ``path``; ``policy`` defaults to the folder's own."""
        try:
            signer = SignerKey.parse((path / LOG_SKEY).read_text(encoding="utf-8").strip())
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"{path} is not a ledger folder: {LOG_SKEY} missing") from exc
        chosen = read_policy(path / POLICY) if policy is None else policy
        return cls(Ledger.open(path, signer), chosen, CheckpointStore(state_dir))

    @property
    def ledger(self) -> Ledger:
        """The ledger written to."""
        return self._ledger

    @property
    def policy(self) -> TrustPolicy:
        """The trust policy applied."""
        return self._policy

    def admit_product(
        self,
        envelope: SignedEnvelope,
        template: bytes,
        pending: Collection[ItemId] = (),
        hologram: bytes | None = None,
    ) -> NewEntry:
        """The ledger entry for a product record, after every check `register` makes.

        ``pending`` are items in the same not-yet-appended batch.
        """
        item = (envelope, template) if hologram is None else (envelope, template, hologram)
        (admitted,) = self.admit_products([item], pending)
        if isinstance(admitted, Exception):
            raise admitted
        return admitted

    def admit_products(
        self, items: Sequence[Admission], pending: Collection[ItemId] = ()
    ) -> list[NewEntry | RegistryError | ValueError]:
        """`admit_product` for a batch: each item's entry, or the error refusing it.
        An item is ``(envelope, template)``, or ``(envelope, template, hologram)`` for a
        record naming a hologram template.

        Makes the same checks in the same order, item by item, but verifies the batch's
        signatures ahead on a thread pool (`check_ahead`) while this thread parses,
        reads each signer's key events once and looks up all items in one query. An item
        in ``pending`` or earlier in ``items`` (and admitted) is a `DuplicateItemError`.
        """
        key_events, at = self._key_events(), self._ledger.size
        signers = {envelope.signer for envelope, *_ in items}
        known = known_keys(signers, at, self._policy, key_events)
        signatures = check_ahead([envelope for envelope, *_ in items], known)
        checked: list[ProductRecord | RegistryError | ValueError] = []
        for n, (envelope, template, *hologram) in enumerate(items, 1):
            signatures.wait(n)
            try:
                hologram_blob = hologram[0] if hologram else None
                checked.append(
                    check_product(envelope, template, self._policy, key_events, at, hologram_blob)
                )
            except (RegistryError, ValueError) as exc:
                checked.append(exc)
        logged = self._ledger.find_many(
            ITEM, (r.item.format() for r in checked if isinstance(r, ProductRecord))
        )
        seen = set(pending)
        out: list[NewEntry | RegistryError | ValueError] = []
        for (envelope, *blobs), record in zip(items, checked, strict=True):
            if not isinstance(record, ProductRecord):
                out.append(record)
                continue
            item = record.item
            try:
                if item in seen:
                    raise DuplicateItemError(item, leaf_index=self._ledger.size)
                for index in logged.get(item.format(), ()):
                    entry = SignedEnvelope.parse(self._ledger.entry(index))
                    if isinstance(parse_record(entry.payload), ProductRecord):
                        raise DuplicateItemError(item, leaf_index=index)
            except (RegistryError, ValueError) as exc:
                out.append(exc)
                continue
            seen.add(item)
            out.append(NewEntry(data=envelope.format(), keys=entry_keys(record), blobs=blobs))
        return out

    def admit_event(self, envelope: SignedEnvelope) -> NewEntry:
        """The ledger entry for an event: see `Registry.append_event` for the kinds.

        A `VerificationEvent` must be about a registered item; when the policy lists
        devices it must be signed by one of them, otherwise it is logged unchecked, as
        the device's claim. A `Revocation` must be signed by the key that registered the
        item or one it rotated to (`registry.check_withdrawal`), in good standing. A
        `KeyEvent` must be
        signed as its `signer` says by a key the policy trusts, by name or by succession
        (`succession`): a key registers itself, a rotation is signed by the key it
        replaces, which must be in good standing, and a key may revoke itself whatever
        its standing. Raises `RecordFormatError`, `NotRegisteredError`, `SignatureError`
        or `RevokedKeyError`.
        """
        event = parse_record(envelope.payload)
        key_events, at = self._key_events(), self._ledger.size
        if isinstance(event, VerificationEvent):
            if envelope.signer != event.device:
                raise RecordFormatError("a verification event must be signed by its device")
            if self._policy.devices:  # then only the listed devices may log scans
                envelope.open(self._policy.devices)
            self._product_of(event.item)
        elif isinstance(event, KeyEvent) and event.action is KeyAction.REVOKE:
            # A key may revoke itself whatever its standing: a retired key found compromised.
            envelope.open(chain(envelope.signer, at, self._policy, key_events)[-1:])
        elif isinstance(event, KeyEvent):
            open_signed(envelope, at, self._policy, key_events)
        elif isinstance(event, Revocation):
            open_signed(envelope, at, self._policy, key_events)  # by a key in good standing
            product = self._product_of(event.item)
            check_withdrawal(envelope, at, product, self._policy, key_events)
        else:
            raise RecordFormatError(f"got a {event.TYPE} record, want an event")
        return NewEntry(data=envelope.format(), keys=entry_keys(event))

    def _key_events(self) -> EventsOf:
        """The key events this ledger holds under a key (its own log: nothing to prove)."""
        ledger = self._ledger

        @functools.cache
        def events_of(key: KeyId) -> tuple[tuple[int, bytes], ...]:
            return tuple((i, ledger.entry(i)) for i in ledger.find(KEY, key.format()))

        return events_of

    def _product_of(self, item: ItemId) -> ProductRecord:
        """The first product record logged for ``item``; `NotRegisteredError` if none."""
        for index in self._ledger.find(ITEM, item.format()):
            record = parse_record(SignedEnvelope.parse(self._ledger.entry(index)).payload)
            if isinstance(record, ProductRecord):
                return record
        raise NotRegisteredError(item, source=str(self._ledger.path))

    def append(self, entries: Sequence[NewEntry]) -> range:
        """Append admitted entries as one batch under one checkpoint; their leaf indexes."""
        return self._ledger.append(entries)

    def register(
        self, envelope: SignedEnvelope, template: bytes, hologram: bytes | None = None
    ) -> int:
        with self._mutex:
            return self.append([self.admit_product(envelope, template, hologram=hologram)])[0]

    def lookup(self, item: ItemId) -> VerifiedRecord:
        verified = self._verified_checkpoint()
        return verify_lookup(item, self._ledger, verified, self._policy)

    def append_event(self, envelope: SignedEnvelope) -> int | None:
        with self._mutex:
            return self.append([self.admit_event(envelope)])[0]

    def sync(self) -> int:
        return 0  # nothing is ever queued: the ledger is local

    def checkpoint(self) -> Checkpoint:
        return self._verified_checkpoint().checkpoint

    def audit(self) -> AuditReport:
        """Recompute every tile, bundle and blob hash and the root (`audit.audit`)."""
        log_key = self._verified_checkpoint().log_key
        return audit(self._ledger.path, log_key, origin=self._ledger.checkpoint.origin)

    def close(self) -> None:
        self._ledger.close()

    def _verified_checkpoint(self) -> VerifiedCheckpoint:
        self._ledger.refresh()
        verified = self._policy.verify_checkpoint(self._ledger.checkpoint_note)
        self._store.accept(verified, self._ledger.consistency_proof)
        return verified
