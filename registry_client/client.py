"""The `Registry` over HTTP, the only httpx import, and `open_registry`.

`HttpRegistry` talks to ``registry_server``: it fetches the checkpoint, tiles
(c2sp.org/tlog-tiles paths), entries and blobs, and builds and checks every proof
itself, so the server's word counts for nothing. Responses are size-capped; anything
garbled is a `RegistryUnavailable` or a `VerificationError` saying what was wrong.
Verification events it cannot deliver are queued in a file and sent by `sync`.

`open_registry` picks the implementation for a URL, a ledger folder
(`embedded.EmbeddedRegistry`) or a bundle file (`bundle.BundleRegistry`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from registry_client.audit import AuditReport
from registry_client.checkpoint import Checkpoint, VerifiedCheckpoint
from registry_client.embedded import EmbeddedRegistry, is_ledger
from registry_client.errors import (
    CheckpointError,
    ProofError,
    RecordFormatError,
    RegistryError,
    RegistryUnavailable,
    SignatureError,
    VerificationError,
)
from registry_client.item import ItemId
from registry_client.merkle import HASH_SIZE, MerkleTree, leaf_hash
from registry_client.policy import TrustPolicy
from registry_client.records import (
    MAX_ENVELOPE_SIZE,
    MAX_TEMPLATE_SIZE,
    KeyEvent,
    Record,
    Revocation,
    SignedEnvelope,
    VerificationEvent,
    parse_record,
)
from registry_client.registry import (
    ITEM,
    KEY,
    CheckpointStore,
    DuplicateItemError,
    Registry,
    VerifiedRecord,
    verify_lookup,
)
from registry_client.tiles import (
    TILE_WIDTH,
    Tile,
    TileHashes,
    parse_entry_bundle,
    tile_data,
    tile_for_node,
    tiles_for_consistency,
    tiles_for_inclusion,
    tree_tiles,
)

MAX_CHECKPOINT_SIZE = 64 * 1024
"""Largest checkpoint note fetched, in bytes."""
MAX_BUNDLE_SIZE = TILE_WIDTH * (2 + MAX_ENVELOPE_SIZE)
"""Largest entry bundle fetched: 256 envelopes of at most `MAX_ENVELOPE_SIZE`."""
MAX_LOOKUP_SIZE = 8 * 1024 * 1024
"""Largest ``/lookup`` answer fetched, in bytes."""
MAX_LOOKUP_LEAVES = 1000
"""Most leaves a ``/lookup`` answer may list."""
TILE_CACHE_SIZE = 4096
"""Tiles an `HttpRegistry` remembers (8 KiB each at most). A tile path names its width,
so its bytes never change (tlog-tiles): partial ones merely stop being asked for."""
MAX_KEY_ANSWERS = 1024
"""``/keys`` answers an `HttpRegistry` remembers, by key and tree size."""
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
"""Connect within 5 s; each read, write and pool wait within 10 s."""
_HEX64 = re.compile(r"[0-9a-f]{64}")


class HttpRegistry:
    """A `Registry` over ``registry_server`` at ``url``, trusting none of its answers.

    Each lookup fetches the checkpoint (verified by ``policy`` and checked for
    consistency with the last one in ``state_dir``), the item's leaves, the tiles for
    their inclusion proofs, and the template blob; `verify_lookup` checks them all.
    Verification events that cannot be delivered are queued in ``state_dir``.
    ``transport`` replaces the network (tests); the constructor makes no request.
    """

    def __init__(
        self,
        url: str,
        policy: TrustPolicy,
        state_dir: Path,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._url = url.rstrip("/")
        self._policy = policy
        self._store = CheckpointStore(state_dir)
        digest = hashlib.sha256(self._url.encode()).hexdigest()[:16]
        self._queue = _EventQueue(state_dir / f"queue-{digest}.jsonl")
        self._http = httpx.Client(base_url=self._url, timeout=timeout, transport=transport)
        self._tiles: OrderedDict[Tile, bytes] = OrderedDict()
        self._tiles_mutex = threading.Lock()
        self._last_note: tuple[bytes, VerifiedCheckpoint] | None = None
        self._key_answers: dict[tuple[str, int], tuple[list[int], list[bytes]]] = {}

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self._url

    def register(
        self, envelope: SignedEnvelope, template: bytes, hologram: bytes | None = None
    ) -> int:
        body = {"envelope": _b64(envelope.format()), "template": _b64(template)}
        if hologram is not None:
            body["hologram"] = _b64(hologram)
        return _leaf_index(self._post("/records", body), self._url)

    def lookup(self, item: ItemId) -> VerifiedRecord:
        verified = self._verified_checkpoint()
        log = _HttpLog(self, verified.checkpoint.size)
        try:
            found = verify_lookup(item, log, verified, self._policy)
        except VerificationError:
            # A proof failed: a remembered tile may hold a bad hash that an earlier
            # proof did not use. Forget them all; the next lookup fetches afresh.
            with self._tiles_mutex:
                self._tiles.clear()
            raise
        self._remember_tiles(log.tiles)
        with self._tiles_mutex:
            if len(self._key_answers) > MAX_KEY_ANSWERS:
                self._key_answers.clear()
            self._key_answers.update(log.key_answers)
        return found

    def key_answer(self, key: str, size: int) -> tuple[list[int], list[bytes]] | None:
        """The ``/keys`` answer a verified lookup at tree ``size`` used, if remembered.

        A tree of one size never changes, so neither does the server's answer for it.
        """
        with self._tiles_mutex:
            return self._key_answers.get((key, size))

    def append_event(self, envelope: SignedEnvelope) -> int | None:
        data = envelope.format()
        try:
            return _leaf_index(self._post(_event_route(data), {"envelope": _b64(data)}), self._url)
        except _Unreachable:
            self._queue.push(data)
            return None

    def sync(self) -> int:
        sent = 0
        for data in self._queue.pending():
            try:
                self._post(_event_route(data), {"envelope": _b64(data)})
            except _Unreachable:
                break
            self._queue.drop(1)
            sent += 1
        return sent

    def checkpoint(self) -> Checkpoint:
        return self._verified_checkpoint().checkpoint

    def audit(self) -> AuditReport:
        """Fetch every entry bundle and tile; recompute them and the root from the entries.

        Raises `ProofError` naming the first tile or bundle that differs, and
        `CheckpointError` if the root does not match the verified checkpoint. Blobs are
        not fetched (``blobs`` is 0).
        """
        verified = self._verified_checkpoint()
        size = verified.checkpoint.size
        tree = MerkleTree()
        tiles = tree_tiles(size)
        for tile in (t for t in tiles if t.level == 0):
            bundle = self.fetch(tile.entries_path, MAX_BUNDLE_SIZE)
            try:
                tree.extend(leaf_hash(e) for e in parse_entry_bundle(bundle, tile))
            except RecordFormatError as exc:
                raise ProofError(f"{tile.entries_path}: {exc}") from exc
        if tree.root() != verified.checkpoint.root_hash:
            raise CheckpointError(
                f"entries give root {tree.root().hex()}, "
                f"checkpoint says {verified.checkpoint.root_hash.hex()}"
            )
        for tile in tiles:
            if self.fetch(tile.path, tile.width * HASH_SIZE) != tile_data(tree, tile):
                raise ProofError(f"{tile.path} differs from the tile the entries give")
        bundles = sum(t.level == 0 for t in tiles)
        return AuditReport(
            checkpoint=verified.checkpoint,
            tiles=len(tiles),
            bundles=bundles,
            leaves=size,
            blobs=0,
        )

    def close(self) -> None:
        self._http.close()

    def fetch(self, path: str, limit: int) -> bytes:
        """``GET path``: the body of a 200 answer of at most ``limit`` bytes.

        Raises `RegistryUnavailable` for anything else, naming the status or fault.
        """
        try:
            with self._http.stream("GET", "/" + path) as response:
                return _read_capped(response, limit, self._url)
        except httpx.HTTPError as exc:
            raise _Unreachable(f"GET /{path}: {type(exc).__name__}: {exc}", url=self._url) from exc

    def tree(
        self, tiles: Collection[Tile], size: int, fetched: dict[Tile, bytes] | None = None
    ) -> TileHashes:
        """The tree of ``size`` over the fetched ``tiles`` (each checked for length).

        Tiles that a verified lookup used before are taken from memory (tlog-tiles: the
        bytes behind a tile path never change). Tiles fetched now go into ``fetched``.
        """
        data: dict[Tile, bytes] = {}
        for t in tiles:
            with self._tiles_mutex:
                cached = self._tiles.get(t)
                if cached is not None:
                    self._tiles.move_to_end(t)
            if cached is None:
                cached = self.fetch(t.path, t.width * HASH_SIZE)
                if fetched is not None:
                    fetched[t] = cached
            data[t] = cached
        return TileHashes(size, data)

    def _remember_tiles(self, tiles: Mapping[Tile, bytes]) -> None:
        """Keep the tiles that a lookup's proofs, all verified, were computed from."""
        with self._tiles_mutex:
            for t, data in tiles.items():
                self._tiles[t] = data
                self._tiles.move_to_end(t)
            while len(self._tiles) > TILE_CACHE_SIZE:
                self._tiles.popitem(last=False)

    def identify(self, codes: Sequence[bytes], k: int) -> tuple[Candidate, ...]:
        """The up to ``k`` items whose bit codes lie nearest ``codes`` (packed, all of
        one length), nearest first, by the server's index (``POST /identify``).

        Nothing here is proven: each candidate must still be looked up. Raises
        `RecordFormatError` if the server refuses the query, `RegistryUnavailable` if
        it cannot search (501) or its answer is malformed.
        """
        body = {"codes": [_b64(c) for c in codes], "k": k}
        answer = _json_object(self._post("/identify", body), "identify answer", self._url)
        found = answer.get("candidates")
        if not isinstance(found, list) or len(found) > k:
            raise RegistryUnavailable(
                f"identify answer: want a list of ≤ {k} candidates", url=self._url
            )
        n_bits = 8 * len(codes[0]) if codes else 0
        return tuple(_candidate(c, n_bits, self._url) for c in found)

    def _post(self, path: str, body: Mapping[str, Any]) -> bytes:
        try:
            with self._http.stream("POST", path, json=body) as response:
                return _read_capped(response, MAX_CHECKPOINT_SIZE, self._url)
        except httpx.HTTPError as exc:
            raise _Unreachable(f"POST {path}: {type(exc).__name__}: {exc}", url=self._url) from exc

    def _consistency(self, size1: int, size2: int) -> Sequence[bytes]:
        return self.tree(tiles_for_consistency(size1, size2), size2).consistency_proof(size1)

    def _verified_checkpoint(self) -> VerifiedCheckpoint:
        note = self.fetch("checkpoint", MAX_CHECKPOINT_SIZE)
        last = self._last_note
        if last is not None and last[0] == note:
            verified = last[1]  # the same bytes verified by the same policy before
        else:
            verified = self._policy.verify_checkpoint(note)
        self._store.accept(verified, self._consistency)
        self._last_note = (note, verified)
        return verified


@dataclass(frozen=True, slots=True)
class Candidate:
    """An item the server's ``/identify`` proposed: unproven until looked up."""

    item: ItemId
    template_sha256: bytes
    distance: int


def _candidate(value: object, n_bits: int, url: str) -> Candidate:
    """One entry of an ``/identify`` answer, checked for shape (not for truth)."""
    fields = value if isinstance(value, dict) else {}
    item, digest, distance = (fields.get(f) for f in ("item", "template_sha256", "distance"))
    try:
        if not (isinstance(item, str) and isinstance(digest, str) and _HEX64.fullmatch(digest)):
            raise ValueError("want an item, a template_sha256 of 64 hex digits and a distance")
        if type(distance) is not int or not 0 <= distance <= n_bits:
            raise ValueError(f"distance {distance!r:.40} is not in 0..{n_bits}")
        return Candidate(ItemId.parse(item), bytes.fromhex(digest), distance)
    except ValueError as exc:
        reason = f"identify answer: bad candidate {value!r:.200}: {exc}"
        raise RegistryUnavailable(reason, url=url) from exc


class _Unreachable(RegistryUnavailable):
    """The request did not complete (connection, timeout, protocol): worth queueing."""


class _HttpLog:
    """The `ProvenLog` of an `HttpRegistry` for a tree of ``size``: untrusted answers."""

    def __init__(self, registry: HttpRegistry, size: int) -> None:
        self._registry = registry
        self._size = size
        self._entries: dict[int, bytes] = {}
        self.tiles: dict[Tile, bytes] = {}
        """Tiles fetched (not remembered) for this log's proofs."""
        self.key_answers: dict[tuple[str, int], tuple[list[int], list[bytes]]] = {}
        """``/keys`` answers fetched (not remembered), by key and tree size."""

    def find(self, kind: str, key: str) -> Sequence[int]:
        route = {ITEM: "lookup", KEY: "keys"}[kind]
        answer = self._registry.key_answer(key, self._size) if kind == KEY else None
        if answer is None:
            body = self._registry.fetch(f"{route}/{quote(key, safe='')}", MAX_LOOKUP_SIZE)
            answer = _parse_lookup(body, self._registry.url)
            if kind == KEY:
                self.key_answers[(key, self._size)] = answer
        leaves, entries = answer
        self._entries.update(zip(leaves, entries, strict=True))
        return leaves

    def entry(self, index: int) -> bytes:
        if index not in self._entries:
            tile = tile_for_node(0, index, self._size)
            bundle = self._registry.fetch(tile.entries_path, MAX_BUNDLE_SIZE)
            try:
                self._entries[index] = parse_entry_bundle(bundle, tile)[index % TILE_WIDTH]
            except RecordFormatError as exc:
                raise ProofError(str(exc)) from exc
        return self._entries[index]

    def inclusion_proof(self, index: int) -> Sequence[bytes]:
        tiles = tiles_for_inclusion(index, self._size)
        return self._registry.tree(tiles, self._size, self.tiles).inclusion_proof(index)

    def blob(self, sha256: bytes) -> bytes:
        return self._registry.fetch(f"blobs/sha256/{sha256.hex()}", MAX_TEMPLATE_SIZE)


class _EventQueue:
    """Envelopes waiting to be sent, one base64 line each, in a file rewritten atomically."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._mutex = threading.Lock()

    def pending(self) -> list[bytes]:
        """The queued envelopes, oldest first."""
        try:
            lines = self._path.read_text(encoding="ascii").splitlines()
        except FileNotFoundError:
            return []
        try:
            return [base64.b64decode(line, validate=True) for line in lines if line]
        except binascii.Error as exc:
            raise RecordFormatError(f"{self._path}: {exc}") from exc

    def push(self, envelope: bytes) -> None:
        """Queue one envelope."""
        with self._mutex:
            self._write([*self.pending(), envelope])

    def drop(self, count: int) -> None:
        """Forget the ``count`` oldest envelopes (sent)."""
        with self._mutex:
            self._write(self.pending()[count:])

    def _write(self, envelopes: Sequence[bytes]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temp = self._path.with_name(f".{self._path.name}.{os.getpid()}")
        temp.write_text("".join(_b64(e) + "\n" for e in envelopes), encoding="ascii")
        temp.replace(self._path)


def open_registry(target: str, policy: TrustPolicy | None, state_dir: Path) -> Registry:
    """The `Registry` for ``target``: an http(s) URL, a ledger folder, or a bundle file.

    A URL and a bundle need ``policy`` (neither source's word is trusted); a folder
    defaults to its own policy.
    """
    if target.startswith(("http://", "https://")):
        if policy is None:
            raise ValueError(f"{target}: an HTTP registry needs a trust policy (--policy FILE)")
        return HttpRegistry(target, policy, state_dir)
    path = Path(target)
    if path.is_dir():
        if not is_ledger(path):
            raise FileNotFoundError(f"{path} is not a ledger folder (no checkpoint and log key)")
        return EmbeddedRegistry.open(path, state_dir, policy)
    if path.is_file():
        from registry_client.bundle import BundleRegistry, Outbox, open_bundle

        if policy is None:
            raise ValueError(f"{target}: checking a bundle needs a trust policy (--policy FILE)")
        return BundleRegistry(open_bundle(path, policy), Outbox(state_dir / "outbox"))
    raise FileNotFoundError(f"registry {target!r} is not a URL, a ledger folder or a file")


EVENT_ROUTES: dict[type[Record], str] = {
    VerificationEvent: "/events",
    Revocation: "/revocations",
    KeyEvent: "/key-events",
}
"""The server route that logs each kind of event."""


def _event_route(envelope: bytes) -> str:
    """The route for the event in ``envelope``; `RecordFormatError` for other records."""
    record = parse_record(SignedEnvelope.parse(envelope).payload)
    route = EVENT_ROUTES.get(type(record))
    if route is None:
        raise RecordFormatError(f"got a {record.TYPE} record, want an event")
    return route


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _read_capped(response: httpx.Response, limit: int, url: str) -> bytes:
    """The body of a successful answer, refusing more than ``limit`` bytes."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RegistryUnavailable(
            f"{response.request.url.path}: answer of {declared} bytes, want ≤ {limit}", url=url
        )
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise RegistryUnavailable(
                f"{response.request.url.path}: answer exceeds {limit} bytes", url=url
            )
    if response.status_code not in (200, 201):
        raise _status_error(response, bytes(body), url)
    return bytes(body)


def _status_error(response: httpx.Response, body: bytes, url: str) -> RegistryError:
    """The error a refusal stands for; the server's reason is quoted, not trusted."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    fields = answer if isinstance(answer, dict) else {}
    reason = str(fields.get("error", body[:200].decode("utf-8", "replace")))[:500]
    status = response.status_code
    message = f"{response.request.method} {response.request.url.path}: {status} {reason}"
    item, leaf = fields.get("item"), fields.get("leaf_index")
    if status == 409 and isinstance(item, str) and isinstance(leaf, int):
        with contextlib.suppress(ValueError):  # else: a garbled answer, unavailable below
            return DuplicateItemError(ItemId.parse(item), leaf_index=leaf)
    if status == 403:
        return SignatureError(message)
    if status in (400, 413):
        return RecordFormatError(message)
    if status == 429:
        retry = response.headers.get("retry-after", "?")
        return RegistryUnavailable(f"{message} (retry after {retry} s)", url=url)
    return RegistryUnavailable(message, url=url)


def _json_object(body: bytes, what: str, url: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise RegistryUnavailable(f"{what} is not JSON: {exc}", url=url) from exc
    if not isinstance(value, dict):
        raise RegistryUnavailable(f"{what} is not a JSON object", url=url)
    return value


def _leaf_index(body: bytes, url: str) -> int:
    """The ``leaf_index`` of an append's answer (the caller proves it by lookup)."""
    index = _json_object(body, "append answer", url).get("leaf_index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise RegistryUnavailable(f"append answer has leaf_index {index!r}", url=url)
    return index


def _parse_lookup(body: bytes, url: str) -> tuple[list[int], list[bytes]]:
    """``{"leaves": [int], "entries": [base64]}``, equally long and ascending."""
    answer = _json_object(body, "lookup answer", url)
    leaves, entries = answer.get("leaves"), answer.get("entries")
    if (
        not isinstance(leaves, list)
        or not isinstance(entries, list)
        or len(leaves) != len(entries)
        or len(leaves) > MAX_LOOKUP_LEAVES
        or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in leaves)
        or leaves != sorted(set(leaves))
        or not all(isinstance(e, str) for e in entries)
    ):
        raise RegistryUnavailable(
            "lookup answer is malformed: want ascending leaves and as many base64 entries", url=url
        )
    try:
        return leaves, [base64.b64decode(e, validate=True) for e in entries]
    except binascii.Error as exc:
        raise RegistryUnavailable(f"lookup answer entry is not base64: {exc}", url=url) from exc
