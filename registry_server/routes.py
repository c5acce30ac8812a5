"""Request handlers. Static paths follow c2sp.org/tlog-tiles; the rest is Hallmark's API.

========================  =====================================================
``GET /checkpoint``       the signed checkpoint (``Cache-Control: no-cache``)
``GET /tile/…``           hash tiles and ``tile/entries/…`` bundles: full ones
                          immutable, partial ones cached briefly
``GET /blobs/sha256/H``   a template blob by SHA-256
``GET /lookup/ITEM``      ``{"leaves": [...], "entries": [base64...]}`` for an item,
                          ``(01)<GTIN>(21)<serial>`` percent-encoded (`ItemId`)
``GET /keys/NAME+HASH``   the same for a manufacturer key's key events
``POST /records``         ``{"envelope": b64, "template": b64}`` → 201 ``{"leaf_index"}``;
                          403 untrusted or revoked key, 400 malformed (with the
                          reason), 409 duplicate item, 413 too large
``POST /events``          ``{"envelope": b64}`` of a device-signed VerificationEvent
``POST /revocations``     the same for a manufacturer's Revocation of its item
``POST /key-events``      the same for a manufacturer's KeyEvent (register, rotate,
                          revoke); all three: 201, or 400/403/404 with the reason
``POST /witness/add-checkpoint``  tlog-witness cosigning (when a witness key is set)
``POST /identify``        ``{"codes": [b64], "k": N}`` → ``{"candidates": [...]}``, the
                          items with the nearest bit codes (`identify`); 400 with the
                          reason, 429 past the stricter limit of no-code queries
                          (several codes), 503 + Retry-After while the index is
                          built, 501 if the store cannot be walked
``GET /healthz``          ``{"status": "ok", "size": N}``
========================  =====================================================

Handlers that read files or the index are plain functions: Starlette runs them on its
thread pool, so a slow disk or a busy index lock never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from registry_client.catalog import NotWalkableError
from registry_client.client import MAX_LOOKUP_LEAVES
from registry_client.errors import (
    LedgerCorruptError,
    RecordFormatError,
    RegistryError,
    RevokedKeyError,
    SignatureError,
)
from registry_client.item import ItemId
from registry_client.records import (
    KeyEvent,
    ProductRecord,
    Record,
    Revocation,
    SignedEnvelope,
    VerificationEvent,
    parse_record,
)
from registry_client.registry import ITEM, KEY, DuplicateItemError, NotRegisteredError
from registry_server.batching import Sequencer
from registry_server.identify import (
    IdentifyRequestError,
    IndexNotReady,
    ServerIndex,
    answer,
    parse_query,
)
from registry_server.ratelimit import TokenBuckets
from registry_server.store import ReadOnlyLogError, Store
from registry_server.witness import SizeConflict, Witness

IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=5"
_HEX = re.compile(r"[0-9a-f]{64}")


class BodyTooLarge(Exception):
    """The request body exceeds the server's limit."""


def _error(
    status: int, reason: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": reason, **extra}, status_code=status, headers=headers)


def _registry(request: Request) -> Store:
    registry: Store = request.app.state.registry
    return registry


async def checkpoint(request: Request) -> Response:
    ledger = _registry(request).ledger
    await asyncio.to_thread(ledger.refresh)
    return Response(
        ledger.checkpoint_note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def tile(request: Request) -> Response:
    path = "tile/" + request.path_params["path"]
    try:
        data = _registry(request).ledger.read(path)
    except (ValueError, LookupError) as exc:
        return _error(404, str(exc))
    except LedgerCorruptError as exc:
        return _error(500, str(exc))
    partial = ".p/" in path
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Cache-Control": PARTIAL if partial else IMMUTABLE},
    )


def blob(request: Request) -> Response:
    digest = request.path_params["digest"]
    if not _HEX.fullmatch(digest):
        return _error(404, f"{digest!r} is not 64 lowercase hex digits")
    try:
        data = _registry(request).ledger.blob(bytes.fromhex(digest))
    except LookupError as exc:
        return _error(404, str(exc))
    return Response(
        data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE}
    )


def lookup(request: Request) -> Response:
    try:
        item = ItemId.parse(request.path_params["item"])
    except ValueError as exc:
        return _error(400, str(exc))
    return _leaves(request, ITEM, item.format())


def key_events(request: Request) -> Response:
    return _leaves(request, KEY, request.path_params["key"])


def _leaves(request: Request, kind: str, key: str) -> Response:
    ledger = _registry(request).ledger
    leaves = ledger.find(kind, key)[:MAX_LOOKUP_LEAVES]
    entries = [base64.b64encode(ledger.entry(i)).decode("ascii") for i in leaves]
    return JSONResponse({"leaves": list(leaves), "entries": entries})


async def records(request: Request) -> Response:
    return await _append(request, with_template=True)


async def events(request: Request) -> Response:
    return await _append(request, with_template=False, kind=VerificationEvent)


async def revocations(request: Request) -> Response:
    return await _append(request, with_template=False, kind=Revocation)


async def key_event(request: Request) -> Response:
    return await _append(request, with_template=False, kind=KeyEvent)


async def _append(
    request: Request, *, with_template: bool, kind: type[Record] = ProductRecord
) -> Response:
    try:
        fields = _json_fields(await _body(request), with_template)
        envelope = SignedEnvelope.parse(fields["envelope"])
        record = parse_record(envelope.payload)
    except BodyTooLarge as exc:
        return _error(413, str(exc))
    except RecordFormatError as exc:
        return _error(400, str(exc))
    if not isinstance(record, kind):
        return _error(400, f"got a {record.TYPE} record, this route takes {kind.TYPE}")
    sequencer: Sequencer = request.app.state.sequencer
    future = sequencer.submit(envelope, fields.get("template"), fields.get("hologram"))
    try:
        leaf = await asyncio.wrap_future(future)
    except DuplicateItemError as exc:
        return _error(409, str(exc), item=exc.item.format(), leaf_index=exc.leaf_index)
    except (SignatureError, RevokedKeyError) as exc:  # untrusted signer or revoked key
        return _error(403, str(exc))
    except NotRegisteredError as exc:
        return _error(404, str(exc))
    except ReadOnlyLogError as exc:
        return _error(503, str(exc))
    except (RegistryError, ValueError) as exc:
        return _error(400, str(exc))
    return JSONResponse({"leaf_index": leaf}, status_code=201)


async def _body(request: Request) -> bytes:
    """The request body, refusing more than the app's ``max_body`` bytes."""
    limit: int = request.app.state.max_body
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body is {declared} bytes, want ≤ {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(f"body exceeds {limit} bytes")
    return bytes(body)


def _json_fields(body: bytes, with_template: bool) -> dict[str, bytes]:
    """The base64 fields of an append body, decoded; `RecordFormatError` with the reason.

    A product record comes with its template, and with its hologram template when the
    record names one (`registry.check_product` checks that pairing).
    """
    names = ("envelope", "template") if with_template else ("envelope",)
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise RecordFormatError(f"body is not JSON: {exc}") from exc
    if with_template and isinstance(value, dict) and "hologram" in value:
        names = (*names, "hologram")
    if not isinstance(value, dict) or sorted(value) != sorted(names):
        raise RecordFormatError(f"body must be a JSON object with exactly {list(names)}")
    out: dict[str, bytes] = {}
    for name in names:
        try:
            out[name] = base64.b64decode(str(value[name]), validate=True)
        except binascii.Error as exc:
            raise RecordFormatError(f"not base64: {exc}", field=name) from exc
    return out


async def add_checkpoint(request: Request) -> Response:
    witness: Witness | None = request.app.state.witness
    if witness is None:
        return _error(404, "this server is not a witness")
    try:
        line = await asyncio.to_thread(witness.add_checkpoint, await _body(request))
    except BodyTooLarge as exc:
        return _error(413, str(exc))
    except SizeConflict as exc:
        return PlainTextResponse(f"{exc.held}\n", status_code=409, media_type="text/x.tlog.size")
    except RecordFormatError as exc:
        return _error(400, str(exc))
    except SignatureError as exc:
        return _error(403, str(exc))
    except RegistryError as exc:  # a failed consistency proof: tlog-witness says 422
        return _error(422, str(exc))
    return PlainTextResponse(line)


async def identify(request: Request) -> Response:
    try:
        codes, k = parse_query(await _body(request))
    except BodyTooLarge as exc:
        return _error(413, str(exc))
    except IdentifyRequestError as exc:
        return _error(400, str(exc))
    if len(codes) > 1:  # a scan of every code per hypothesis: its own, stricter limit
        scans: TokenBuckets = request.app.state.scans
        wait = scans.take(request.client.host if request.client else "-")
        if wait:
            reason = f"no-code identification rate limited; retry in {wait:.2f} s"
            return _error(429, reason, headers={"Retry-After": str(math.ceil(wait))})
    index: ServerIndex = request.app.state.index
    try:
        found = await asyncio.to_thread(index.search, codes, k)
    except NotWalkableError as exc:
        return _error(501, f"this registry's store cannot be searched by surface: {exc}")
    except IndexNotReady as exc:
        return _error(503, str(exc), headers={"Retry-After": str(exc.retry_after)})
    except RegistryError as exc:  # an entry or template of the log could not be read
        return _error(500, f"the index of this registry could not be brought up to date: {exc}")
    return JSONResponse(answer(found))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "size": _registry(request).ledger.size})
