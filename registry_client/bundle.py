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
        blob/<sha256 hex>                   templates (and hologram templates)
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

import functools
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from registry_client._bundle_contents import (
    BundleLog,
    Entry,
    check_contents,
    prove_entries,
    resting_keys,
    tiles_for_entries,
)
from registry_client._bundle_file import (
    BLOB_PREFIX,
    CHECKPOINT,
    ENTRY_PREFIX,
    MAGIC,
    MAX_BUNDLE_SIZE,
    POLICY,
    BundleFormatError,
    Writer,
    atomic_file,
    read_members,
)
from registry_client.bundle_manifest import FORMAT, Counts, Manifest, Selection, SelectionKind
from registry_client.bundle_offline import (
    BundleRegistry,
    Outbox,
    ReadOnlyBundleError,
    whole_seconds,
)
from registry_client.checkpoint import VerifiedCheckpoint
from registry_client.errors import (
    CheckpointError,
    ExpiredBundleError,
    SignatureError,
    VerificationError,
)
from registry_client.item import ItemId
from registry_client.ledger import Ledger
from registry_client.note import (
    KeyId,
    KeyType,
    Note,
    SignerKey,
    VerifierKey,
)
from registry_client.policy import TrustPolicy
from registry_client.records import (
    KeyEvent,
    ProductRecord,
    Revocation,
)
from registry_client.registry import (
    ITEM,
    KEY,
)
from registry_client.tiles import (
    TILE_WIDTH,
)

__all__ = [
    "FORMAT",
    "MAGIC",
    "MAX_BUNDLE_SIZE",
    "Bundle",
    "BundleDigestError",
    "BundleFormatError",
    "BundleLog",
    "BundleRegistry",
    "BundleSummary",
    "Counts",
    "Manifest",
    "Outbox",
    "ReadOnlyBundleError",
    "Selection",
    "SelectionKind",
    "export_bundle",
    "open_bundle",
    "read_bundled_policy",
    "tiles_for_entries",
]
"""The bundle API, gathered from its modules: `bundle_manifest` (what a bundle covers
and states), `_bundle_file` (the container), `_bundle_contents` (the checks shared by
export and open), `bundle_offline` (the offline registry); export and open are here."""

StrPath = str | os.PathLike[str]


class BundleDigestError(VerificationError):
    """The bundle's bytes do not hash to the SHA-256 its signed manifest states."""

    def __init__(self, *, expected: bytes, calculated: bytes) -> None:
        super().__init__(
            f"bundle members hash to {calculated.hex()}, the signed manifest says {expected.hex()}"
        )
        self.expected = expected
        self.calculated = calculated


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
    created = whole_seconds(now)
    with _ledger(source, policy) as ledger:
        note = ledger.checkpoint_note if checkpoint_note is None else checkpoint_note
        checkpoint = policy.verify_checkpoint(note).checkpoint
        if checkpoint != ledger.checkpoint:
            raise CheckpointError(
                f"checkpoint note is for size {checkpoint.size} root "
                f"{checkpoint.root_hash.hex()}, the ledger holds size {ledger.size} root "
                f"{ledger.checkpoint.root_hash.hex()}"
            )
        peeked = _selected_entries(ledger, selection, policy)
        stored = ledger.blobs(
            sha
            for e in peeked.values()
            if isinstance(e.record, ProductRecord)
            for sha in (e.record.template_sha256, e.record.hologram_sha256)
            if sha is not None
        )
        indexes = check_contents(peeked, stored.get, policy, selection)
        tiles = {t: ledger.read(t.path) for t in tiles_for_entries(peeked, checkpoint.size)}
    entries, blobs = {i: e.data for i, e in peeked.items()}, indexes.templates
    path = Path(out)
    with atomic_file(path) as file:
        writer = Writer(file)
        writer.add(CHECKPOINT, note.encode())
        writer.add(POLICY, policy.format().encode())
        for tile in sorted(tiles, key=lambda t: (t.level, t.index)):
            writer.add(tile.path, tiles[tile])
        for i in sorted(entries):
            writer.add(f"{ENTRY_PREFIX}{i}", entries[i])
        for sha in sorted(blobs):
            writer.add(BLOB_PREFIX + sha.hex(), blobs[sha])
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


def _selected_entries(
    ledger: Ledger, selection: Selection, policy: TrustPolicy
) -> dict[int, Entry]:
    """The first product record of each selected item, with the item's revocations
    and the key events the trust of each product and revocation rests on."""
    if selection.kind is SelectionKind.ITEMS:
        found = ledger.find_many(ITEM, selection.values)
        indexes: Iterable[int] = sorted({i for leaves in found.values() for i in leaves})
    else:
        indexes = range(ledger.size)
    seen: set[ItemId] = set()
    products: dict[int, Entry] = {}
    for i, data in _read_entries(ledger, indexes):
        try:
            entry = Entry.peek(i, data)
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
    found = ledger.find_many(ITEM, (r.item.format() for r in records))
    about = {i for leaves in found.values() for i in leaves} - products.keys()
    withdrawals = {
        i: entry
        for i, data in _read_entries(ledger, sorted(about))
        if isinstance((entry := Entry.peek(i, data)).record, Revocation)
    }
    history = _key_history(ledger, policy, {**withdrawals, **products}.items())
    history -= withdrawals.keys() | products.keys()
    events = {
        i: entry
        for i, data in _read_entries(ledger, sorted(history))
        if isinstance((entry := Entry.peek(i, data)).record, KeyEvent)
    }
    return {**events, **withdrawals, **products}


def _key_history(
    ledger: Ledger, policy: TrustPolicy, entries: Iterable[tuple[int, Entry]]
) -> set[int]:
    """The leaves of the key events under each key the trust of the products and
    withdrawals in ``entries`` rests on (`_bundle_contents.resting_keys`): all a
    verifier's `succession` rules read, and no more (`check_contents` refuses the events
    of other keys, such as one that rotated to a policy key)."""

    @functools.cache
    def events_of(key: KeyId) -> list[tuple[int, bytes]]:
        return list(_read_entries(ledger, ledger.find(KEY, key.format())))

    return {i for key in resting_keys(entries, policy, events_of) for i, _ in events_of(key)}


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


def _whole(duration: timedelta) -> timedelta:
    return timedelta(seconds=int(duration.total_seconds()))


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
    checked_at = whole_seconds(now)
    members = read_members(Path(path))
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
    tiles = prove_entries(members.tiles, members.entries, checkpoint.checkpoint)
    peeked = {i: Entry.peek(i, data) for i, data in members.entries.items()}
    indexes = check_contents(peeked, members.blobs.get, policy, manifest.selection)
    if extra := sorted(members.blobs.keys() - indexes.templates.keys()):
        raise BundleFormatError("no record names this template", field=BLOB_PREFIX + extra[0].hex())
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
    members = read_members(Path(path))
    if members.policy is None:
        raise BundleFormatError(f"no {POLICY} member")
    return TrustPolicy.parse(members.policy)
