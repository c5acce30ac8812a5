"""One interface over every registry: embedded ledger, HTTP server, offline bundle.

`Registry` is the protocol the app talks to; `embedded.EmbeddedRegistry`,
`client.HttpRegistry` and `bundle.BundleRegistry` implement it. Whatever the source,
a lookup goes through `verify_lookup`, which trusts nothing the source says: every
entry's inclusion proof is checked against a checkpoint that the `TrustPolicy` verified
and that `CheckpointStore` accepted as consistent with the last one seen.

Ledger entries are `SignedEnvelope` bytes. They are indexed under `entry_keys`:
``("item", "(01)<GTIN>(21)<serial>")`` (`item.ItemId`: GS1 serials are unique only per
GTIN) for product records, revocations and verification events, and
``("key", name+hash)`` for manufacturer key events (a rotation under both its keys).
Template blobs are stored by SHA-256.

Trust (DESIGN.md §Trust): a record is accepted when (1) its manufacturer's key signed
it, (2) the trust policy trusts that key at the record's leaf, by name or through logged
rotations, and it is neither revoked nor retired (`succession`), (3) it
is included in a checkpoint signed by the log and cosigned to the policy's quorum, and
(4) the template's SHA-256 equals the record's (and the hologram template's, when the
record names one: a second blob). The live capture matching the template
(5) is for ``fingerprint.match``. A log proves presence, not absence: `NotRegisteredError`
reports that the source found no entry for an item, as that source's word.

References
----------
https://c2sp.org/tlog-checkpoint, https://c2sp.org/tlog-tiles, RFC 9162 §2.1.3-§2.1.4.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from registry_client.checkpoint import Checkpoint, VerifiedCheckpoint
from registry_client.errors import (
    CheckpointError,
    ProofError,
    RecordFormatError,
    RegistryError,
    RegistryUnavailable,
    RevokedKeyError,
    SignatureError,
    VerificationError,
)
from registry_client.item import ItemId
from registry_client.merkle import leaf_hash, verify_consistency, verify_inclusion
from registry_client.note import KeyId, Note, VerifierKey
from registry_client.policy import TrustPolicy
from registry_client.records import (
    KeyEvent,
    ProductRecord,
    Record,
    Revocation,
    SignedEnvelope,
    VerificationEvent,
    parse_record,
)
from registry_client.succession import (
    MAX_EVENTS_READ,
    EventsOf,
    KeyHistoryError,
    chain,
    signing_key,
)

ITEM = "item"
"""Index kind of entries about one item (products, revocations, verification events),
keyed by `ItemId.format`."""
KEY = "key"
"""Index kind of manufacturer key events, keyed by ``name+hash``."""


class NotRegisteredError(RegistryError, LookupError):
    """No product record for ``item`` in the log, as far as the source can tell.

    A log proves presence, not absence: this is the source's index speaking (or a
    bundle's contents), not a proof.
    """

    def __init__(self, item: ItemId, *, source: str) -> None:
        super().__init__(f"item {item} is not registered in {source}")
        self.item = item
        self.source = source


class DuplicateItemError(RegistryError):
    """A product record for ``item`` (same GTIN and serial) is already at ``leaf_index``."""

    def __init__(self, item: ItemId, *, leaf_index: int) -> None:
        super().__init__(f"item {item} is already registered at leaf {leaf_index}")
        self.item = item
        self.leaf_index = leaf_index


class TemplateMismatchError(VerificationError):
    """The template blob (``what``: ``template`` or ``hologram template``) does not hash
    to the SHA-256 its product record names."""

    def __init__(self, *, expected: bytes, calculated: bytes, what: str = "template") -> None:
        super().__init__(f"{what} hashes to {calculated.hex()}, record says {expected.hex()}")
        self.expected = expected
        self.calculated = calculated


class SplitViewError(CheckpointError):
    """A checkpoint contradicts the one remembered: a rollback, fork or split view.

    ``held`` is the checkpoint remembered, ``offered`` the one refused.
    """

    def __init__(self, reason: str, *, held: Checkpoint, offered: Checkpoint) -> None:
        super().__init__(
            f"{reason}: held size {held.size} root {held.root_hash.hex()}, "
            f"offered size {offered.size} root {offered.root_hash.hex()}"
        )
        self.held = held
        self.offered = offered


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedRecord:
    """A product record with everything that vouches for it, all checked.

    ``template`` hashes to ``record.template_sha256``, and ``hologram`` (the hologram
    template, when the record names one) to ``record.hologram_sha256``; ``envelope``
    (canonical JSON) is leaf ``leaf_index`` of the tree ``checkpoint`` commits to, by
    ``inclusion_proof``.
    ``revocations`` are the manufacturer's withdrawals of this item, signature checked.
    ``events`` are the verification events logged for the item: proven to be in the
    log, but claims unless signed by a device the trust policy lists; ``attested`` are
    those whose signature verifies with such a device key.
    """

    record: ProductRecord
    manufacturer: KeyId
    envelope: bytes
    template: bytes
    leaf_index: int
    inclusion_proof: tuple[bytes, ...]
    checkpoint: VerifiedCheckpoint
    events: tuple[VerificationEvent, ...] = ()
    revocations: tuple[Revocation, ...] = ()
    attested: tuple[VerificationEvent, ...] = ()
    hologram: bytes | None = None
    trusted_through: tuple[KeyId, ...] = ()
    """The keys trust passed through to ``manufacturer``, from the policy's key on, when
    the policy does not name it itself (`succession`): whom the verdict really rests on."""

    @property
    def withdrawn(self) -> bool:
        """Whether the manufacturer has revoked this item."""
        return bool(self.revocations)


class Registry(Protocol):
    """A place to register product records and look them up, verified.

    Implementations never make a network call in their constructor, and an offline one
    (a bundle) never makes one at all.
    """

    def register(
        self, envelope: SignedEnvelope, template: bytes, hologram: bytes | None = None
    ) -> int:
        """Log a manufacturer-signed `ProductRecord` and store its template (and its
        hologram template, which the record must name); its leaf index.

        Raises `SignatureError` (key not trusted), `RevokedKeyError`,
        `DuplicateItemError`, `RecordFormatError`, or `RegistryUnavailable`.
        """
        ...

    def lookup(self, item: ItemId) -> VerifiedRecord:
        """The verified product record for ``item`` (see `verify_lookup`).

        Raises `NotRegisteredError`, a `VerificationError` naming what failed, or
        `RegistryUnavailable`.
        """
        ...

    def append_event(self, envelope: SignedEnvelope) -> int | None:
        """Log an event; its leaf index, or ``None`` if queued to send later.

        Events are a device-signed `VerificationEvent` about a registered item, a
        manufacturer's `Revocation` of an item it registered, and a manufacturer's
        `KeyEvent` (register, rotate or revoke its key). Raises `NotRegisteredError`,
        `SignatureError`, `RevokedKeyError`, `RecordFormatError`, `RegistryUnavailable`.
        """
        ...

    def sync(self) -> int:
        """Send the events queued while offline; the number sent."""
        ...

    def checkpoint(self) -> Checkpoint:
        """The newest checkpoint, verified and consistent with the last one remembered."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


def entry_keys(record: Record) -> tuple[tuple[str, str], ...]:
    """The ``(kind, key)`` pairs a ledger entry holding ``record`` is indexed under.

    A rotation is indexed under both keys: the new key's trust and the old key's
    retirement both rest on it (`succession`).
    """
    if isinstance(record, KeyEvent):
        keys = (KeyId.of(record.key), *([record.previous] if record.previous else []))
        return tuple((KEY, key.format()) for key in keys)
    return ((ITEM, record.item.format()),)


def check_product(
    envelope: SignedEnvelope,
    template: bytes,
    policy: TrustPolicy,
    key_events: EventsOf,
    at: int,
    hologram: bytes | None = None,
) -> ProductRecord:
    """The product record in ``envelope`` if a log may hold it at leaf ``at`` with
    ``template`` (and ``hologram``, required exactly when the record has a
    ``hologram_sha256``).

    Checks the signature by a manufacturer key that ``policy`` and the ``key_events``
    trust at that leaf (`succession`: named or succeeded to, not revoked, not retired),
    and the template's size and SHA-256 (and the hologram's). Raises `SignatureError`,
    `RevokedKeyError`, `TemplateMismatchError` or `RecordFormatError`.
    """
    record = open_signed(envelope, at, policy, key_events)
    if not isinstance(record, ProductRecord):
        raise RecordFormatError(f"got a {record.TYPE} record, want {ProductRecord.TYPE}")
    _check_template(record, template)
    if (record.hologram_sha256 is None) != (hologram is None):
        raise RecordFormatError(
            "the record names a hologram template but none was given"
            if hologram is None
            else "a hologram template was given but the record names none"
        )
    if hologram is not None:
        _check_hologram(record, hologram)
    return record


class ProvenLog(Protocol):
    """What a verifier reads from an untrusted log, for a tree of a given size.

    Everything it returns is checked by `verify_lookup`.
    """

    def find(self, kind: str, key: str) -> Sequence[int]:
        """Leaf indexes indexed under ``(kind, key)``, ascending."""
        ...

    def entry(self, index: int) -> bytes:
        """The entry at leaf ``index``."""
        ...

    def inclusion_proof(self, index: int) -> Sequence[bytes]:
        """Leaf ``index``'s inclusion proof in the tree of the checkpoint."""
        ...

    def blob(self, sha256: bytes) -> bytes:
        """The blob with this SHA-256; ``LookupError`` if the source has none."""
        ...


def verify_lookup(
    item: ItemId, log: ProvenLog, checkpoint: VerifiedCheckpoint, policy: TrustPolicy
) -> VerifiedRecord:
    """Find, prove and check the product record for ``item`` against ``checkpoint``.

    The first product record for the item (in log order) counts: a later one is a
    duplicate the log should have refused. Each entry used is proven included in
    ``checkpoint`` (RFC 9162 §2.1.3.2), and so is every key event its signer's trust
    rests on (`succession`). Withdrawals and scans count only if they name the item.
    Raises `NotRegisteredError`, `ProofError`, `SignatureError`, `RevokedKeyError`
    (`RetiredKeyError`), `TemplateMismatchError` (template or hologram template),
    `RecordFormatError`, or `RegistryUnavailable` when a blob is missing.
    """
    size = checkpoint.checkpoint.size
    found = log.find(ITEM, item.format())
    entries = [(i, *_proven(log, i, checkpoint)) for i in found if 0 <= i < size]
    peeked = [(i, data, proof, _peek(data)) for i, data, proof in entries]
    products = [(i, d, p) for i, d, p, r in peeked if isinstance(r, ProductRecord)]
    if not products:
        raise NotRegisteredError(item, source=f"the log of size {size}")
    index, data, proof = products[0]
    key_events = proven_key_events(log, checkpoint)
    envelope = SignedEnvelope.parse(data)
    record = open_signed(envelope, index, policy, key_events)
    keys = chain(envelope.signer, index, policy, key_events)
    if not isinstance(record, ProductRecord) or record.item != item:
        raise RecordFormatError(f"leaf {index} is not the product record of {item}")
    template = _blob(log, record.template_sha256, f"template of leaf {index}")
    _check_template(record, template)
    hologram = None
    if record.hologram_sha256 is not None:
        hologram = _blob(log, record.hologram_sha256, f"hologram template of leaf {index}")
        _check_hologram(record, hologram)
    revocations = [
        r
        for leaf, d, _, peek in peeked
        if isinstance(peek, Revocation)  # a log may index any entry under an item
        and (r := _heeded(d, leaf, record, policy, key_events)) is not None
    ]
    scans = [(d, peek) for _, d, _, peek in peeked if isinstance(peek, VerificationEvent)]
    attested = [
        e
        for d, peek in scans
        if peek.item == item
        and policy.devices
        and isinstance(e := _open_quietly(d, policy.devices), VerificationEvent)
    ]
    return VerifiedRecord(
        record=record,
        manufacturer=record.manufacturer,
        envelope=data,
        template=template,
        leaf_index=index,
        inclusion_proof=proof,
        checkpoint=checkpoint,
        events=tuple(peek for _, peek in scans if peek.item == item),
        revocations=tuple(revocations),
        attested=tuple(attested),
        hologram=hologram,
        trusted_through=tuple(KeyId.of(key) for key in keys[:-1]),
    )


def _blob(log: ProvenLog, sha256: bytes, what: str) -> bytes:
    """The blob ``sha256`` of ``log``; a source that lost it cannot vouch for the item."""
    try:
        return log.blob(sha256)
    except LookupError as exc:
        raise RegistryUnavailable(f"{what} ({sha256.hex()}) is not available: {exc}") from exc


def open_signed(
    envelope: SignedEnvelope, at: int, policy: TrustPolicy, key_events: EventsOf
) -> Record:
    """The record in ``envelope``, signed by a key trusted at leaf ``at`` (`succession`).

    Raises `SignatureError`, `RevokedKeyError` (`RetiredKeyError`) or `RecordFormatError`.
    """
    key = signing_key(envelope.signer, at, policy, key_events)
    return envelope.open([key] if key is not None else [])


def check_withdrawal(
    envelope: SignedEnvelope,
    at: int,
    product: ProductRecord,
    policy: TrustPolicy,
    key_events: EventsOf,
) -> Revocation:
    """The withdrawal of ``product`` in ``envelope`` (leaf ``at``): it must be signed by
    the key that registered the product or one that succeeded that key
    (`succession.chain`). Raises `SignatureError` or `RecordFormatError` otherwise.

    The signer's own standing is not asked: a withdrawal only ever makes a verdict
    harsher, so even a revoked key's is heeded.
    """
    keys = chain(envelope.signer, at, policy, key_events)
    revocation = envelope.open(keys[-1:])
    if not isinstance(revocation, Revocation) or revocation.item != product.item:
        raise RecordFormatError(f"want the withdrawal of {product.item}, got {revocation}")
    if product.manufacturer not in {KeyId.of(key) for key in keys}:
        raise SignatureError(
            f"only {product.manufacturer.format()}, which registered {product.item}, or a key "
            f"it rotated to may withdraw it; got {envelope.signer.format()}",
            key=envelope.signer.format(),
        )
    return revocation


def proven_key_events(log: ProvenLog, checkpoint: VerifiedCheckpoint) -> EventsOf:
    """The key events ``log`` indexes under a key, each proven in ``checkpoint``'s tree
    (remembered per key: `succession` asks for a key's events more than once). A key
    under which the log names more than `succession.MAX_EVENTS_READ` is refused
    (`KeyHistoryError`) before any is fetched."""
    size = checkpoint.checkpoint.size
    found: dict[KeyId, list[tuple[int, bytes]]] = {}

    def events_of(key: KeyId) -> Sequence[tuple[int, bytes]]:
        if key not in found:
            leaves = [i for i in log.find(KEY, key.format()) if 0 <= i < size]
            if len(leaves) > MAX_EVENTS_READ:
                reason = f"the log names {len(leaves)} key events under it"
                raise KeyHistoryError(key.format(), reason=reason)
            found[key] = [(i, _proven(log, i, checkpoint)[0]) for i in leaves]
        return found[key]

    return events_of


def _proven(
    log: ProvenLog, index: int, checkpoint: VerifiedCheckpoint
) -> tuple[bytes, tuple[bytes, ...]]:
    """Entry ``index`` and its inclusion proof, checked against ``checkpoint``."""
    data = log.entry(index)
    proof = tuple(log.inclusion_proof(index))
    tree = checkpoint.checkpoint
    verify_inclusion(leaf_hash(data), index, tree.size, proof, tree.root_hash)
    return data, proof


def _peek(data: bytes) -> Record | None:
    """The record an entry holds, signature unchecked; ``None`` if it is not an envelope."""
    try:
        return parse_record(SignedEnvelope.parse(data).payload)
    except RecordFormatError:
        return None


def _heeded(
    data: bytes, at: int, product: ProductRecord, policy: TrustPolicy, key_events: EventsOf
) -> Revocation | None:
    """The withdrawal of ``product`` in entry ``data`` if `check_withdrawal` passes it."""
    try:
        return check_withdrawal(SignedEnvelope.parse(data), at, product, policy, key_events)
    except (RecordFormatError, SignatureError, RevokedKeyError):
        return None


def _open_quietly(data: bytes, keys: Sequence[VerifierKey]) -> Record | None:
    """The record if one of ``keys`` validly signed it, else ``None``."""
    try:
        return SignedEnvelope.parse(data).open(keys)
    except (RecordFormatError, SignatureError):
        return None


def _check_template(record: ProductRecord, template: bytes) -> None:
    calculated = hashlib.sha256(template).digest()
    if calculated != record.template_sha256 or len(template) != record.template_size:
        raise TemplateMismatchError(expected=record.template_sha256, calculated=calculated)


def _check_hologram(record: ProductRecord, hologram: bytes) -> None:
    assert record.hologram_sha256 is not None
    calculated = hashlib.sha256(hologram).digest()
    if calculated != record.hologram_sha256:
        raise TemplateMismatchError(
            expected=record.hologram_sha256, calculated=calculated, what="hologram template"
        )


class CheckpointStore:
    """The last verified checkpoint of each log, in a folder: the split-view defence.

    `accept` takes a newer checkpoint only with a valid consistency proof from the one
    held (RFC 9162 §2.1.4.2); same size with another root, a smaller tree, or a failed
    proof raise `SplitViewError` with both checkpoints. One file per origin, written
    atomically. Nothing is read until first used.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._mutex = threading.Lock()

    def _path(self, origin: str) -> Path:
        name = hashlib.sha256(origin.encode()).hexdigest()[:32]
        return self._directory / f"checkpoint-{name}"

    def last(self, origin: str) -> Checkpoint | None:
        """The checkpoint remembered for ``origin``, or ``None``."""
        try:
            text = self._path(origin).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            checkpoint = Checkpoint.parse(Note.parse(text).text)
        except VerificationError as exc:
            raise CheckpointError(f"{self._path(origin)}: {exc}") from exc
        if checkpoint.origin != origin:
            raise CheckpointError(
                f"{self._path(origin)} holds origin {checkpoint.origin!r}, want {origin!r}"
            )
        return checkpoint

    def accept(
        self,
        verified: VerifiedCheckpoint,
        prove: Callable[[int, int], Sequence[bytes]],
    ) -> None:
        """Remember ``verified`` if it extends the checkpoint held.

        ``prove(size1, size2)`` fetches a consistency proof from the log; it is called
        only when the tree grew. Raises `SplitViewError`.
        """
        new = verified.checkpoint
        with self._mutex:
            held = self.last(new.origin)
            if held is not None:
                _check_extends(held, new, prove)
                if held.size == new.size:
                    return
            self._directory.mkdir(parents=True, exist_ok=True)
            path = self._path(new.origin)
            temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
            temp.write_text(verified.note.format(), encoding="utf-8")
            temp.replace(path)


def _check_extends(
    held: Checkpoint, new: Checkpoint, prove: Callable[[int, int], Sequence[bytes]]
) -> None:
    if new.size < held.size:
        raise SplitViewError("the tree shrank", held=held, offered=new)
    if new.size == held.size:
        if new.root_hash != held.root_hash:
            raise SplitViewError("same tree size, different root", held=held, offered=new)
        return
    if held.size == 0:
        return
    try:
        proof = prove(held.size, new.size)
        verify_consistency(held.size, new.size, proof, held.root_hash, new.root_hash)
    except ProofError as exc:
        raise SplitViewError(f"consistency proof failed ({exc})", held=held, offered=new) from exc
