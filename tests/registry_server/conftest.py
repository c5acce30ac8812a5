"""A ledger folder served by the Starlette app through TestClient (no sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_samples import Served, ledger, manufacturer
from starlette.testclient import TestClient

from registry_client.client import EmbeddedRegistry
from registry_server.app import Limits, create_app


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    maker = manufacturer()
    ledger(tmp_path / "ledger", maker)
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state")
    app = create_app(registry, limits=Limits(max_body=64 * 1024, write_burst=1000))
    with TestClient(app) as client:
        yield Served(client=client, registry=registry, maker=maker, folder=tmp_path / "ledger")
    registry.close()
