"""The Starlette application: routes, middleware, and the sequencer's lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from registry_server import routes
from registry_server.batching import Sequencer
from registry_server.identify import ServerIndex
from registry_server.middleware import AccessLog, RateLimit
from registry_server.ratelimit import TokenBuckets
from registry_server.store import Store
from registry_server.witness import Witness


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Request limits: body size, and per-IP token buckets for reads and writes."""

    max_body: int = 2 * 1024 * 1024
    """Largest POST body (a base64 template of up to 1 MiB plus its envelope)."""
    read_rate: float = 500.0
    read_burst: float = 1000.0
    write_rate: float = 20.0
    write_burst: float = 40.0
    batch_window: float = 0.005
    """Seconds the sequencer waits to gather concurrent appends into one batch."""
    scan_rate: float = 0.5
    scan_burst: float = 5.0
    """No-code ``/identify`` queries per IP, on top of the write bucket: each scans every
    rotation × scale hypothesis, about 100× the work of a query with a code
    (`benchmarks/bench_identify.py`)."""


def create_app(
    registry: Store,
    *,
    limits: Limits = Limits(),
    witness: Witness | None = None,
    index_path: Path | None = None,
) -> Starlette:
    """The registry's ASGI app over ``registry`` (owned by the caller, not closed here).

    ``registry`` is any `store.Store`: `embedded.EmbeddedRegistry` by default. The
    identification index is built in the background from start-up and kept in
    ``index_path`` across restarts (None: in memory only; `identify.ServerIndex`)."""
    sequencer = Sequencer(registry, window=limits.batch_window)
    index = ServerIndex(registry, index_path)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sequencer.start()
        index.start()
        try:
            yield
        finally:
            await asyncio.to_thread(index.stop)
            sequencer.stop()

    app = Starlette(
        routes=[
            Route("/checkpoint", routes.checkpoint),
            Route("/tile/{path:path}", routes.tile),
            Route("/blobs/sha256/{digest}", routes.blob),
            Route("/lookup/{item:path}", routes.lookup),
            Route("/keys/{key:path}", routes.key_events),
            Route("/records", routes.records, methods=["POST"]),
            Route("/events", routes.events, methods=["POST"]),
            Route("/revocations", routes.revocations, methods=["POST"]),
            Route("/key-events", routes.key_event, methods=["POST"]),
            Route("/witness/add-checkpoint", routes.add_checkpoint, methods=["POST"]),
            Route("/identify", routes.identify, methods=["POST"]),
            Route("/healthz", routes.healthz),
        ],
        middleware=[
            Middleware(AccessLog),
            Middleware(
                RateLimit,
                reads=TokenBuckets(limits.read_rate, limits.read_burst),
                writes=TokenBuckets(limits.write_rate, limits.write_burst),
            ),
        ],
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.sequencer = sequencer
    app.state.witness = witness
    app.state.index = index
    app.state.scans = TokenBuckets(limits.scan_rate, limits.scan_burst)
    app.state.max_body = limits.max_body
    return app
