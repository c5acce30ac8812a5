"""The registry served by the Starlette app through TestClient (no sockets), on each
backend: the ledger folder and PostgreSQL (`pg_fixture`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_fixture import pg_cluster, pg_dsn  # noqa: F401  (fixtures)
from registry_samples import Served, ledger, manufacturer
from starlette.testclient import TestClient

from registry_client.embedded import EmbeddedRegistry
from registry_server.app import Limits, create_app


@pytest.fixture(params=["folder", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    maker = manufacturer()
    ledger(tmp_path / "ledger", maker)
    if request.param == "folder":
        registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state")
    else:
        from registry_server.postgres import open_store

        dsn = request.getfixturevalue("pg_dsn")
        registry = open_store(dsn, tmp_path / "ledger", tmp_path / "state", pool_size=4)
    app = create_app(registry, limits=Limits(max_body=64 * 1024, write_burst=1000))
    with TestClient(app) as client:
        yield Served(client=client, registry=registry, maker=maker, folder=tmp_path / "ledger")
    registry.close()
