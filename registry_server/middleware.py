"""ASGI middleware: per-IP rate limiting (429 + Retry-After) and JSON access logs."""

from __future__ import annotations

import json
import logging
import math
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry_server.ratelimit import TokenBuckets

ACCESS_LOG = logging.getLogger("registry_server.access")
"""One JSON object per request: time, client, method, path, status, bytes, ms."""


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"


class RateLimit:
    """Spends a token of the client IP's ``reads`` (GET) or ``writes`` (POST) bucket."""

    def __init__(self, app: ASGIApp, *, reads: TokenBuckets, writes: TokenBuckets) -> None:
        self._app = app
        self._reads = reads
        self._writes = writes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/healthz":
            await self._app(scope, receive, send)
            return
        buckets = self._reads if scope["method"] in ("GET", "HEAD") else self._writes
        wait = buckets.take(_client(scope))
        if not wait:
            await self._app(scope, receive, send)
            return
        body = json.dumps({"error": f"rate limited; retry in {wait:.2f} s"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"retry-after", str(math.ceil(wait)).encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AccessLog:
    """Logs each HTTP request as one JSON line to `ACCESS_LOG` at INFO."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        start = time.perf_counter()
        status, sent = 500, 0

        async def logged_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self._app(scope, receive, logged_send)
        finally:
            if ACCESS_LOG.isEnabledFor(logging.INFO):
                ACCESS_LOG.info(
                    json.dumps(
                        {
                            "time": round(time.time(), 3),
                            "client": _client(scope),
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "bytes": sent,
                            "ms": round((time.perf_counter() - start) * 1000, 2),
                        }
                    )
                )
