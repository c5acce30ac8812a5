"""The PostgreSQL backend: the folder ledger's tiles and proofs, several server processes
over one database, and a read replica serving lookups (a throwaway cluster, `pg_fixture`)."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest
from registry_samples import LOG_KEY, item, ledger, manufacturer, product

from app.cli import main
from registry_client.client import HttpRegistry
from registry_client.embedded import read_policy
from registry_client.errors import CheckpointError, ProofError
from registry_client.ledger import Ledger, NewEntry
from registry_client.records import SignedEnvelope, Signer
from registry_client.registry import DuplicateItemError
from registry_client.tiles import tree_tiles
from registry_server.postgres import cluster
from registry_server.postgres.cluster import Cluster, NoPostgres
from registry_server.postgres.log import PostgresLog
from registry_server.postgres.schema import SchemaError
from registry_server.serve import RegistryServer


def _entries(start: int, count: int) -> list[NewEntry]:
    return [
        NewEntry(data=f"entry {n}".encode() * 3, keys=[("tag", f"k{n % 7}")], blobs=[b"b%d" % n])
        for n in range(start, start + count)
    ]


def test_without_postgresql_the_cluster_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("glob.glob", lambda pattern: [])
    with pytest.raises(NoPostgres, match="apt-get install postgresql"):
        cluster.start_cluster()


def test_tiles_checkpoints_and_proofs_equal_the_folder_ledgers(pg_dsn: str, tmp_path: Path) -> None:
    folder = Ledger.create(tmp_path / "ledger", LOG_KEY)
    log = PostgresLog.open(pg_dsn, LOG_KEY, pool_size=2)
    try:
        for count in (1, 254, 3, 300):  # fills a tile mid-batch, then spans two
            batch = _entries(log.size, count)
            assert log.append(batch) == folder.append(batch)
            assert log.checkpoint_note == folder.checkpoint_note
        size = log.size
        for tile in tree_tiles(size):
            assert log.read(tile.path) == folder.read(tile.path), tile.path
            if tile.level == 0:
                assert log.read(tile.entries_path) == folder.read(tile.entries_path)
        for old in (1, 255):  # a partial tile of an older tree: a prefix of today's
            for tile in tree_tiles(old):
                assert log.read(tile.path) == folder.read(tile.path), tile.path
        assert log.inclusion_proof(300) == folder.inclusion_proof(300)
        assert log.consistency_proof(255) == folder.consistency_proof(255)
        assert log.find("tag", "k3") == folder.find("tag", "k3")
        assert log.entry(400) == folder.entry(400)
        with pytest.raises(LookupError):
            log.read(f"tile/0/{size // 256:03d}.p/{size % 256 + 1}")
    finally:
        log.close()
        folder.close()


def test_a_new_store_on_a_used_database_adopts_its_log(pg_dsn: str) -> None:
    first = PostgresLog.open(pg_dsn, LOG_KEY, pool_size=2)
    first.append(_entries(0, 5))
    second = PostgresLog.open(pg_dsn, LOG_KEY, pool_size=2)  # migrations already applied
    try:
        assert second.size == 5
        second.append(_entries(5, 2))  # rebuilds the edge from the stored partial tiles
        assert first.refresh().size == 7
        assert first.checkpoint_note == second.checkpoint_note
    finally:
        first.close()
        second.close()


_SERVE = """
import sys
from pathlib import Path
from registry_server.serve import serve
serve(Path(sys.argv[1]), "127.0.0.1", 0, database=sys.argv[2],
      on_started=lambda url, key: print("serving at", url, flush=True))
"""
"""`hallmark registry serve --database` without the app's imports (seconds per process)."""
_CLI = [sys.executable, "-m", "app.cli", "registry", "serve", "--port", "0"]
"""The command itself, for one of the processes."""


def test_a_database_of_a_newer_schema_is_refused(pg_dsn: str) -> None:
    PostgresLog.open(pg_dsn, LOG_KEY, pool_size=1).close()  # creates schema version 1
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("UPDATE hallmark_schema SET version = 99")
    with pytest.raises(SchemaError, match="schema 99, newer than this code's 1"):
        PostgresLog.open(pg_dsn, LOG_KEY, pool_size=1)


def test_a_log_that_shrank_is_refused(pg_dsn: str) -> None:
    log = PostgresLog.open(pg_dsn, LOG_KEY, pool_size=2)
    try:
        log.append(_entries(0, 1))
        older = log.checkpoint_note
        log.append(_entries(1, 1))
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute("UPDATE log_head SET size = 1, note = %s", (older,))
        with pytest.raises(CheckpointError, match="smaller than the 2 held"):
            log.refresh()
    finally:
        log.close()


def test_a_forked_log_is_refused(pg_dsn: str, tmp_path: Path) -> None:
    log = PostgresLog.open(pg_dsn, LOG_KEY, pool_size=2)
    fork = Ledger.create(tmp_path / "fork", LOG_KEY)  # same key, other entries
    try:
        log.append(_entries(0, 2))
        fork.append(_entries(10, 3))
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute("UPDATE log_head SET size = 3, note = %s", (fork.checkpoint_note,))
            conn.execute("UPDATE hash_tiles SET data = %s", (fork.read("tile/0/000.p/3"),))
        with pytest.raises(ProofError):
            log.refresh()
        assert log.size == 2
    finally:
        log.close()
        fork.close()


def _product_of(serial: str) -> NewEntry:
    """A product record's entry as admission makes it: a template under its item."""
    return NewEntry(data=serial.encode(), keys=[("item", str(item(serial)))], blobs=[b"t"])


def test_an_item_logged_by_another_process_is_refused_whole(pg_dsn: str) -> None:
    first = PostgresLog.open(pg_dsn, LOG_KEY, pool_size=2)
    stale = PostgresLog.open(pg_dsn, LOG_KEY, pool_size=2)
    try:
        first.append([_product_of("A"), _product_of("B")])
        with pytest.raises(DuplicateItemError) as refused:
            stale.append([_product_of("C"), _product_of("B")])  # admitted before A, B landed
        assert refused.value.leaf_index == 1
        assert stale.refresh().size == 2  # the batch was rolled back whole
        assert stale.append([_product_of("C")]) == range(2, 3)
    finally:
        first.close()
        stale.close()


@pytest.fixture
def processes(pg_dsn: str, tmp_path: Path) -> Iterator[tuple[Path, Signer, list[str]]]:
    """Three server processes over one database, one started by the ``hallmark`` CLI."""
    maker = manufacturer()
    folder = str(tmp_path / "ledger")
    ledger(tmp_path / "ledger", maker)
    commands = [[sys.executable, "-c", _SERVE, folder, pg_dsn]] * 2
    commands.append([*_CLI, "--dir", folder, "--database", pg_dsn])
    servers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for command in commands
    ]
    try:
        urls = [_served_url(server) for server in servers]
        yield tmp_path, maker, urls
    finally:
        for server in servers:
            server.terminate()
        stuck = []
        for server in servers:
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()  # never left running after the test, stuck or not
                server.wait()
                stuck.append(server.args)
        assert not stuck, f"servers did not stop within 60 s of SIGTERM: {stuck}"


def _served_url(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    for line in server.stdout:  # "serving DIR at URL", printed once listening
        if line.startswith("serving "):
            return line.split(" at ")[-1].strip()
    raise AssertionError(f"server exited with {server.wait()} before listening")


def test_several_servers_append_with_no_gap_duplicate_or_fork(
    processes: tuple[Path, Signer, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tmp_path, maker, urls = processes
    posts = [(urls[n % len(urls)], f"SN{n}") for n in range(60)]

    def post(target: tuple[str, str]) -> int:
        answer = httpx.post(target[0] + "/records", json=_body(*product(maker, target[1])))
        assert answer.status_code == 201, answer.text
        return int(answer.json()["leaf_index"])

    with ThreadPoolExecutor(12) as pool:
        leaves = list(pool.map(post, posts))
    assert sorted(leaves) == list(range(60))  # no gap, no leaf handed out twice
    again = httpx.post(urls[1] + "/records", json=_body(*product(maker, "SN7")))
    assert again.status_code == 409  # logged through another process
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    for url in urls:  # recomputes every tile and the root from the entries
        assert main(["log", "verify", url, "--policy", str(tmp_path / "ledger" / "policy")]) == 0
    reports = {line for line in capsys.readouterr().out.splitlines() if line.startswith("OK")}
    assert len(reports) == 1  # every process serves the same tree: no fork
    assert " size 60 " in reports.pop()


def _body(envelope: SignedEnvelope, template: bytes) -> dict[str, str]:
    return {
        "envelope": base64.b64encode(envelope.format()).decode(),
        "template": base64.b64encode(template).decode(),
    }


def test_a_read_replica_serves_verified_lookups(
    pg_cluster: Cluster, pg_dsn: str, tmp_path: Path
) -> None:
    maker = manufacturer()
    policy = ledger(tmp_path / "ledger", maker)
    primary = RegistryServer(tmp_path / "ledger", database=pg_dsn, state_dir=tmp_path / "p")
    remote = HttpRegistry(primary.start(), policy, tmp_path / "client-p")
    try:
        for serial in ("SN1", "SN2"):
            remote.register(*product(maker, serial))
    finally:
        remote.close()
        primary.stop()
    standby = pg_cluster.standby(pg_cluster.data.parent / f"standby-{tmp_path.name}")
    on_standby = pg_dsn.replace(f":{pg_cluster.port}/", f":{standby.port}/")
    replica = RegistryServer(tmp_path / "ledger", database=on_standby, state_dir=tmp_path / "r")
    reader = HttpRegistry(
        replica.start(), read_policy(tmp_path / "ledger" / "policy"), tmp_path / "c"
    )
    try:
        assert reader.lookup(item("SN2")).leaf_index == 1  # proven against its checkpoint
        write = httpx.post(reader.url + "/records", json=_body(*product(maker, "SN3")))
        assert write.status_code == 503
        assert "read-only standby" in write.json()["error"]
    finally:
        reader.close()
        replica.stop()
        standby.stop("immediate")
