"""``POST /identify``: the items whose bit codes lie nearest a probe's (1:N search).

The server keeps a `fingerprint.identify.Index` of the items of the log it serves that
were registered under the template scheme (`registry_client.catalog.enrolled`; a
ledger folder or PostgreSQL). A background thread (`ServerIndex.start`) builds it at
start-up and follows the log as it grows; a query first waits briefly for what was
logged before it, and is answered 503 with Retry-After while the index is further
behind (`IndexNotReady`). The index is saved to a file now and then and on stop, and a
restarted server resumes from the last leaf it saved, once the file has passed every
check: format, checksum, a consistency proof that it covers a prefix of this very log
(`catalog.resume_at`), and a few entries recomputed from their templates. Anything
else is rebuilt, never trusted. Several processes may share the file: each write is a
whole new file renamed into place (`fingerprint.identify.write_atomically`).

The client sends only codes, never the image, and trusts nothing here: it looks every
candidate up through the verified lookup and re-ranks it with the full matcher.

Body ``{"codes": [base64 packed codes], "k": int}``: one code (the window located by a
printed code: multi-index hashing within `RADIUS_FRACTION` of the bits) or up to
`MAX_CODES` rotation and scale hypotheses (no code read: hashed first, else a scan,
within `NO_CODE_RADIUS_FRACTION`), as `fingerprint.identify.query_for` makes them. Answer
``{"candidates": [{"item", "template_sha256", "distance"}]}``, nearest first.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from fingerprint.identify import (
    LANES_FROM,
    NO_CODE_ANGLES,
    NO_CODE_RADIUS_FRACTION,
    NO_CODE_SCALES,
    RADIUS_FRACTION,
    Candidate,
    Index,
    IndexFormatError,
    Method,
    enrolled_code,
    write_atomically,
)
from fingerprint.template import SCHEME
from registry_client.catalog import NotWalkableError, enrolled, resume_at, source_at
from registry_client.embedded import EmbeddedRegistry
from registry_client.errors import RecordFormatError, RegistryError, RegistryUnavailable
from registry_server.store import Store

log = logging.getLogger(__name__)

N_BITS = 256
"""Code length the server indexes (`fingerprint.bitcode`), as ``hallmark identify``'s."""
MAX_CODES = len(NO_CODE_ANGLES) * len(NO_CODE_SCALES)
"""Most codes in one query: one per rotation × scale hypothesis of a probe (780)."""
MAX_K = 20
"""Most candidates one query returns."""
CHUNK = 1024
"""Leaves the follower indexes between two looks at the index lock and the stop flag
(about 3 s of template decoding when all are products: 3 ms each, docs/identify.md)."""
WAIT = 5.0
"""Seconds a query waits for the follower to index what was logged before it came
(an item registered a moment ago is found); past that it is answered 503. Under the
client's 10 s read timeout (`registry_client.client.DEFAULT_TIMEOUT`); 2 s was too
short for a server just started on the loaded 2-core machine (load average 13)."""
POLL = 10.0
"""Seconds between the follower's looks at the log when no query wakes it (other
server processes may append to a shared PostgreSQL log)."""
SAVE_EVERY = 10_000
"""Leaves indexed between two saves of the index file: a crash loses at most this
much work (≈ 30 s); a save of 1,000,000 entries writes 89 MB in about 1 s."""
SPOT_CHECKS = 8
"""Entries of a saved index recomputed from their templates before it is trusted."""
DEFAULT_RATE = 300.0
"""Leaves per second assumed for Retry-After before the first chunk is timed."""
MAX_RETRY_AFTER = 600
"""Longest Retry-After sent, seconds."""


class IdentifyRequestError(RecordFormatError):
    """An ``/identify`` body that is not a valid query (answered 400 with the reason)."""


def parse_query(body: bytes) -> tuple[np.ndarray[Any, np.dtype[np.uint8]], int]:
    """The packed codes (H, N_BITS // 8) and ``k`` of an ``/identify`` body."""
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise IdentifyRequestError(f"body is not JSON: {exc}") from exc
    if not isinstance(value, dict) or sorted(value) != ["codes", "k"]:
        raise IdentifyRequestError('body must be a JSON object with exactly ["codes", "k"]')
    codes, k = value["codes"], value["k"]
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_K:
        raise IdentifyRequestError(f"k must be an integer in 1..{MAX_K}, got {k!r:.40}")
    if not isinstance(codes, list) or not 1 <= len(codes) <= MAX_CODES:
        count = len(codes) if isinstance(codes, list) else type(codes).__name__
        raise IdentifyRequestError(f"codes must be a list of 1..{MAX_CODES} codes, got {count}")
    size = N_BITS // 8
    rows = []
    for i, code in enumerate(codes):
        try:
            row = base64.b64decode(str(code) if isinstance(code, str) else b"?", validate=True)
        except binascii.Error as exc:
            raise IdentifyRequestError(f"codes[{i}] is not base64: {exc}") from exc
        if len(row) != size:
            raise IdentifyRequestError(
                f"codes[{i}] is {len(row)} bytes, want {size} (a {N_BITS}-bit code)"
            )
        rows.append(row)
    return np.frombuffer(b"".join(rows), np.uint8).reshape(len(rows), size), k


class IndexNotReady(RegistryUnavailable):
    """The index is still being built or catching up (answered 503 with Retry-After)."""

    def __init__(self, *, indexed: int, size: int, retry_after: int) -> None:
        super().__init__(
            f"the identification index is being built: {indexed:,} of {size:,} leaves "
            f"indexed; retry in {retry_after} s"
        )
        self.indexed = indexed
        self.size = size
        self.retry_after = retry_after


class ServerIndex:
    """The index of ``store``'s template-scheme items, kept up to date with its log by
    a background thread; saved to ``path`` (None: kept in memory only).

    Searches raise `NotWalkableError` if the store cannot be walked item by item (only
    an `EmbeddedRegistry`, over a ledger folder or PostgreSQL, can), `IndexNotReady`
    while the index lags the log by more than ``wait`` seconds of work, and the
    `RegistryError` that stopped the follower if it cannot read the log.
    """

    def __init__(self, store: Store, path: Path | None = None, *, wait: float = WAIT) -> None:
        self._store = store
        self._path = path
        self._wait = wait
        self._index = Index(N_BITS)
        self._indexed = 0
        """Leaves of the log the index covers."""
        self._saved = 0
        """Leaves covered by the file last saved or loaded."""
        self._failure: RegistryError | None = None
        self._rate = _Rate()
        self._lock = threading.Lock()  # the index, and the fields above
        self._progress = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start following the log (once; `search` starts it too)."""
        with self._lock:
            if self._thread is None and isinstance(self._store, EmbeddedRegistry):
                # Compiling the kernels (cold: seconds) must not hold up `stop`, which
                # joins the follower: they warm on a thread of their own.
                threading.Thread(target=_warm_kernels, name="identify-warm", daemon=True).start()
                self._thread = threading.Thread(
                    target=self._follow, args=(self._store,), name="identify-index", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        """Stop following (after the chunk in hand) and save what was added since."""
        self._stopping.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join()
            self._save()

    def search(self, codes: np.ndarray[Any, np.dtype[np.uint8]], k: int) -> tuple[Candidate, ...]:
        """The up to ``k`` items nearest ``codes``, nearest first (see the module)."""
        store = self._store
        if not isinstance(store, EmbeddedRegistry):
            raise NotWalkableError(f"a {type(store).__name__} cannot be walked item by item")
        size = self._caught_up(store, self._wait)
        one = len(codes) == 1
        fraction = RADIUS_FRACTION if one else NO_CODE_RADIUS_FRACTION
        with self._progress:
            if self._indexed < size:
                if self._failure is not None:
                    raise self._failure
                raise IndexNotReady(
                    indexed=self._indexed,
                    size=size,
                    retry_after=self._rate.seconds_for(size - self._indexed),
                )
            return self._index.search(
                codes,
                k=k,
                radius=round(fraction * N_BITS),
                method=Method.MIH if one else Method.HASHED_FIRST,
            )

    def ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the index to cover the log as it is now; whether
        it does (for operators and tests: queries wait ``wait`` s themselves)."""
        store = self._store
        if not isinstance(store, EmbeddedRegistry):
            return False
        size = self._caught_up(store, timeout)
        return self._indexed >= size

    def _caught_up(self, store: EmbeddedRegistry, timeout: float) -> int:
        """The log's size now, once the index covers it, it failed, or ``timeout`` passed."""
        self.start()
        size = store.checkpoint().size
        self._wake.set()
        with self._progress:
            self._progress.wait_for(lambda: self._indexed >= size or self._failure, timeout)
        return size

    def _follow(self, store: EmbeddedRegistry) -> None:
        """The background thread: resume from the file, then catch up whenever woken
        (by a query) or every `POLL` seconds, saving every `SAVE_EVERY` leaves."""
        self._resume(store)
        while not self._stopping.is_set():
            try:
                self._catch_up(store)
            except Exception as exc:  # the thread's boundary: kept for queries, retried
                log.warning("identify index: cannot read the log: %s", exc)
                failure = (
                    exc
                    if isinstance(exc, RegistryError)
                    else RegistryUnavailable(f"{type(exc).__name__}: {exc}")
                )
                with self._progress:
                    self._failure = failure
                    self._progress.notify_all()
            self._wake.wait(POLL)
            self._wake.clear()

    def _resume(self, store: EmbeddedRegistry) -> None:
        """Adopt the saved index if it passes every check (module docstring)."""
        if self._path is None:
            return
        try:
            saved = Index.load(self._path)
            start = resume_at(store, saved.source) if saved.n_bits == N_BITS else 0
            if not start:
                raise IndexFormatError(f"it covers {saved.source!r}, not a prefix of this log")
            _spot_check(saved, store)
        except FileNotFoundError:
            return
        except (OSError, IndexFormatError, RegistryError) as exc:  # the follower lives on
            log.warning("identify index: rebuilding, %s is unusable: %s", self._path, exc)
            return
        with self._progress:
            self._index, self._indexed, self._saved = saved, start, start
            self._progress.notify_all()
        log.info("identify index: resumed from %s at leaf %d", self._path, start)

    def _catch_up(self, store: EmbeddedRegistry) -> None:
        """Index the leaves up to the current checkpoint, `CHUNK` at a time."""
        size = store.checkpoint().size
        while self._indexed < size and not self._stopping.is_set():
            first = self._indexed
            last = min(first + CHUNK, size)
            started = time.monotonic()
            found = [
                (code, item.item.format(), item.template_sha256)
                for item in enrolled(store, first, last, scheme=SCHEME)
                if (code := enrolled_code(item.template, N_BITS)) is not None
            ]
            with self._progress:
                if found:
                    codes, labels, digests = zip(*found, strict=True)
                    self._index.add_many(np.array(codes), labels, digests)
                self._indexed = last
                self._failure = None
                self._rate.record(last - first, time.monotonic() - started)
                self._progress.notify_all()
            if last - self._saved >= SAVE_EVERY:
                self._save()

    def _save(self) -> None:
        """Write the index to its file, named for the log prefix it covers."""
        if self._path is None or self._indexed <= self._saved:
            return
        store = self._store
        assert isinstance(store, EmbeddedRegistry)
        with self._lock:
            indexed = self._indexed
            self._index.source = source_at(store, indexed)
            data = self._index.to_bytes()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self._path, data)
        self._saved = indexed


class _Rate:
    """Leaves indexed per second, from the chunks timed so far (for Retry-After)."""

    def __init__(self) -> None:
        self._leaves = 0
        self._seconds = 0.0

    def record(self, leaves: int, seconds: float) -> None:
        self._leaves += leaves
        self._seconds += seconds

    def seconds_for(self, leaves: int) -> int:
        rate = self._leaves / self._seconds if self._seconds > 0 else DEFAULT_RATE
        return max(1, min(MAX_RETRY_AFTER, math.ceil(leaves / max(rate, 1.0))))


def _warm_kernels() -> None:
    """Compile the search kernels (or load them from Numba's cache) before a query needs
    them: cold, that takes seconds, which a query would otherwise wait for."""
    index = Index(N_BITS)
    code = np.zeros((1, N_BITS // 8), np.uint8)
    index.add_many(code, ["warm-up"], [bytes(32)])
    index.search(code, k=1)
    codes = np.repeat(code, LANES_FROM, axis=0)
    index.search(codes, k=1, method=Method.SCAN)
    index.search(codes, k=1, method=Method.HASHED_FIRST)


def _spot_check(index: Index, store: EmbeddedRegistry) -> None:
    """Recompute `SPOT_CHECKS` entries' codes from their templates (a file of another
    code version, or with codes swapped, fails here); `IndexFormatError` on a mismatch."""
    if not len(index):
        return
    codes = index.codes
    for row in sorted(set(np.linspace(0, len(index) - 1, SPOT_CHECKS).astype(int).tolist())):
        label, digest = index.entry(row)
        try:
            template = store.ledger.blob(digest)
        except LookupError as exc:
            raise IndexFormatError(
                f"entry {row} ({label}) names a template not in the log"
            ) from exc
        code = enrolled_code(template, N_BITS)
        if code is None or not np.array_equal(code, codes[row]):
            raise IndexFormatError(f"entry {row} ({label}) holds a code its template does not give")


def answer(candidates: tuple[Candidate, ...]) -> dict[str, Any]:
    """The JSON answer to a query."""
    return {
        "candidates": [
            {"item": c.label, "template_sha256": c.template_sha256.hex(), "distance": c.distance}
            for c in candidates
        ]
    }
