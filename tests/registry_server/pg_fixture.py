"""A throwaway PostgreSQL cluster for the session, and a fresh schema per test.

A schema per test, not a database: creating and base-backing-up dozens of databases
costs seconds each on a busy disk. Skipped, saying why, where PostgreSQL's server
programs are absent — except under ``CI=true``, where the backend must be tested and
their absence fails the run.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from registry_server.postgres.cluster import Cluster, NoPostgres, remove, start_cluster

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A cluster on 127.0.0.1 (as the postgres user when root), stopped and deleted after."""
    try:
        cluster = start_cluster()
    except NoPostgres as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the PostgreSQL tests cannot run: {exc}")
        pytest.skip(f"PostgreSQL server not installed: {exc}")
    yield cluster
    cluster.stop("immediate")
    remove(cluster)


@pytest.fixture
def pg_dsn(pg_cluster: Cluster) -> str:
    """A new, empty schema in the session's cluster, as a connection URL."""
    return pg_cluster.create_schema(f"test_{next(_names)}")
