"""Run the registry with uvicorn: blocking (`serve`) or on a background thread (tests)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import uvicorn

from registry_client.embedded import POLICY, EmbeddedRegistry, read_policy
from registry_client.note import SignerKey
from registry_client.registry import CheckpointStore
from registry_server.app import Limits, create_app
from registry_server.witness import Witness

WITNESS_SKEY = "witness.skey"
"""A cosignature/v1 key in the ledger folder; when present, the server is also a witness."""
INDEX = "identify.hmix"
"""The identification index's file in the state folder (`identify.ServerIndex`)."""


class _Uvicorn(uvicorn.Server):
    """A uvicorn server that sets ``started`` once its sockets listen."""

    def __init__(self, config: uvicorn.Config, started: threading.Event) -> None:
        super().__init__(config)
        self.started_event = started

    async def startup(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        await super().startup(sockets)  # type: ignore[arg-type]
        self.started_event.set()


class RegistryServer:
    """The registry over ledger folder ``directory`` on ``host:port`` (0: any free port).

    With ``database`` (a ``postgresql://…`` URL) the log lives in PostgreSQL
    (`postgres.open_store`); the folder still holds the log key and the policy.

    Nothing happens until `start` (background thread) or `run` (blocking).
    """

    def __init__(
        self,
        directory: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        limits: Limits | None = None,
        state_dir: Path | None = None,
        database: str | None = None,
    ) -> None:
        self._directory = directory
        self._database = database
        self._host = host
        self._port = port
        self._limits = limits or Limits()
        self._state_dir = state_dir or directory / "state"
        self._started = threading.Event()
        self._server: _Uvicorn | None = None
        self._thread: threading.Thread | None = None
        self._registry: EmbeddedRegistry | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` once started."""
        if self._server is None or not self._started.is_set():
            raise RuntimeError("the server has not started")
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://{self._host}:{port}"

    @property
    def log_key(self) -> str:
        """The log's vkey text (after start)."""
        if self._registry is None:
            raise RuntimeError("the server has not started")
        return self._registry.policy.logs[0].key.format()

    def _build(self) -> _Uvicorn:
        if self._database is None:
            registry = EmbeddedRegistry.open(self._directory, self._state_dir / "log")
        else:
            from registry_server.postgres import open_store  # psycopg only when asked for

            registry = open_store(self._database, self._directory, self._state_dir / "log")
        self._registry = registry
        witness = None
        if (self._directory / WITNESS_SKEY).is_file():
            key = SignerKey.parse((self._directory / WITNESS_SKEY).read_text().strip())
            policy = read_policy(self._directory / POLICY)
            witness = Witness(key, policy, CheckpointStore(self._state_dir / "witness"))
        app = create_app(
            registry, limits=self._limits, witness=witness, index_path=self._state_dir / INDEX
        )
        config = uvicorn.Config(
            app, host=self._host, port=self._port, log_config=None, access_log=False
        )
        self._server = _Uvicorn(config, self._started)
        return self._server

    def run(self, on_started: Callable[[str, str], None] | None = None) -> None:
        """Serve until interrupted; ``on_started(url, log_vkey)`` once listening."""
        server = self._build()
        if on_started is not None:
            threading.Thread(
                target=self._announce, args=(on_started,), daemon=True, name="announce"
            ).start()
        try:
            server.run()
        finally:
            self._close()

    def _announce(self, on_started: Callable[[str, str], None]) -> None:
        self._started.wait()
        on_started(self.url, self.log_key)

    def start(self, timeout: float = 30.0) -> str:
        """Serve on a background thread; returns the URL once listening."""
        server = self._build()
        self._thread = threading.Thread(target=server.run, name="registry-server", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"the server did not start within {timeout} s")
        return self.url

    def stop(self) -> None:
        """Stop a server begun with `start` and close its ledger."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join()
        self._close()

    def _close(self) -> None:
        if self._registry is not None:
            self._registry.close()
            self._registry = None


def serve(
    directory: Path,
    host: str,
    port: int,
    *,
    on_started: Callable[[str, str], None] | None = None,
    database: str | None = None,
) -> None:
    """Serve ledger folder ``directory`` (or ``database``) on ``host:port`` until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    RegistryServer(directory, host, port, database=database).run(on_started)
