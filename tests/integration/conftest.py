"""The real registry server (uvicorn on 127.0.0.1, port 0) on a background thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_server import Live, start
from registry_samples import ledger, manufacturer


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("live") / "ledger"
    maker = manufacturer()
    policy = ledger(folder, maker)
    server = start(folder)
    yield Live(url=server.url, policy=policy, maker=maker, folder=folder)
    server.stop()
