"""``POST /identify``: the items whose bit codes lie nearest a probe's (1:N search).

The server keeps a `fingerprint.identify.Index` of the items of the log it serves that
were registered under the template scheme, built from `registry_client.catalog.enrolled`
at the first query and extended from the last indexed leaf whenever the log has grown
since. The client sends only codes, never the image, and trusts nothing here: it looks
every candidate up through the verified lookup and re-ranks it with the full matcher.

Body ``{"codes": [base64 packed codes], "k": int}``: one code (the window located by a
printed code: multi-index hashing within `RADIUS_FRACTION` of the bits) or up to
`MAX_CODES` rotation and scale hypotheses (no code read: a scan within
`NO_CODE_RADIUS_FRACTION`), as `fingerprint.identify.query_for` makes them. Answer
``{"candidates": [{"item", "template_sha256", "distance"}]}``, nearest first.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from typing import Any

import numpy as np

from fingerprint.identify import (
    NO_CODE_ANGLES,
    NO_CODE_RADIUS_FRACTION,
    NO_CODE_SCALES,
    RADIUS_FRACTION,
    Candidate,
    Index,
    Method,
    enrolled_code,
)
from fingerprint.template import SCHEME
from registry_client.catalog import NotWalkableError, enrolled
from registry_client.client import EmbeddedRegistry
from registry_client.errors import RecordFormatError
from registry_server.store import Store

N_BITS = 256
"""Code length the server indexes (`fingerprint.bitcode`), as ``hallmark identify``'s."""
MAX_CODES = len(NO_CODE_ANGLES) * len(NO_CODE_SCALES)
"""Most codes in one query: one per rotation × scale hypothesis of a probe (780)."""
MAX_K = 20
"""Most candidates one query returns."""


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


class ServerIndex:
    """The index of ``store``'s template-scheme items, kept up to date with its log.

    Searches raise `NotWalkableError` if the store cannot be walked item by item (only
    a ledger folder, `EmbeddedRegistry`, can).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._index = Index(N_BITS)
        self._indexed = 0
        """Leaves of the log the index covers."""
        self._lock = threading.Lock()

    def search(self, codes: np.ndarray[Any, np.dtype[np.uint8]], k: int) -> tuple[Candidate, ...]:
        """The up to ``k`` items nearest ``codes``, nearest first (see the module)."""
        one = len(codes) == 1
        fraction = RADIUS_FRACTION if one else NO_CODE_RADIUS_FRACTION
        with self._lock:  # adds, and the first search after them, need one thread
            self._update()
            return self._index.search(
                codes,
                k=k,
                radius=round(fraction * N_BITS),
                method=Method.MIH if one else Method.SCAN,
            )

    def _update(self) -> None:
        """Index the leaves logged since the last update, up to the current checkpoint
        (a walk may see a later one: leaves past ``size`` wait for the next update)."""
        store = self._store
        if not isinstance(store, EmbeddedRegistry):
            raise NotWalkableError(f"a {type(store).__name__} cannot be walked item by item")
        size = store.checkpoint().size
        for item in enrolled(store, self._indexed, scheme=SCHEME):
            if item.leaf_index >= size:
                break
            code = enrolled_code(item.template, N_BITS)
            if code is not None:
                self._index.add(code, item.item.format(), item.template_sha256)
            self._indexed = item.leaf_index + 1  # a walk that fails resumes after it
        self._indexed = size


def answer(candidates: tuple[Candidate, ...]) -> dict[str, Any]:
    """The JSON answer to a query."""
    return {
        "candidates": [
            {"item": c.label, "template_sha256": c.template_sha256.hex(), "distance": c.distance}
            for c in candidates
        ]
    }
