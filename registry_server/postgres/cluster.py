"""A throwaway PostgreSQL cluster on 127.0.0.1, for tests, benchmarks and trying things.

``initdb`` into a fresh folder, ``pg_ctl start`` on a free port (TCP on 127.0.0.1
only, no Unix socket), ``pg_basebackup -R`` for a hot standby, ``pg_ctl stop`` and
delete. PostgreSQL refuses to run as root, so as root every command runs as the
``postgres`` user (made by the Debian ``postgresql`` package) through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

RUN_AS = "postgres"
"""The account the server runs as when this process is root."""


class NoPostgres(RuntimeError):
    """PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed."""


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<N>/bin`` holding initdb; `NoPostgres` if none."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise NoPostgres("no /usr/lib/postgresql/*/bin/initdb: apt-get install postgresql")
    return found[-1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Cluster:
    """A running cluster in ``data`` listening on 127.0.0.1:``port``."""

    bin_dir: Path
    data: Path
    port: int

    def dsn(self, dbname: str = "postgres", schema: str | None = None) -> str:
        """The ``postgresql://`` URL of database ``dbname`` (and ``schema`` first on the
        search path)."""
        url = f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"
        return url if schema is None else f"{url}?options=-csearch_path%3D{schema}"

    def create_database(self, name: str) -> str:
        """Create database ``name``; its connection string."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def create_schema(self, name: str) -> str:
        """Create schema ``name`` in database ``postgres``: a log's own namespace, cheaper
        than a database (no copy of ``template1``); its connection URL."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return self.dsn(schema=name)

    def standby(self, data: Path) -> Cluster:
        """A hot standby copied with ``pg_basebackup -R`` into ``data``, started."""
        _run(
            self.bin_dir / "pg_basebackup",
            "-R", "-X", "stream", "--checkpoint=fast", "-D", str(data),
            "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
        )  # fmt: skip
        return _start(self.bin_dir, data)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (clean) or ``immediate`` (a throwaway's teardown)."""
        _run(self.bin_dir / "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


def start_cluster(parent: Path | None = None, *, durable: bool = False) -> Cluster:
    """``initdb`` a new cluster in a fresh folder under ``parent`` and start it.

    Not ``durable`` (tests): fsync off, which a throwaway cluster can afford.
    """
    bin_dir = find_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="hallmark-pg-", dir=parent))
    _give_away(root)
    data = root / "primary"
    _run(
        bin_dir / "initdb", "-D", str(data), "-U", "postgres", "--auth=trust",
        "-E", "UTF8", "--no-sync", "--no-instructions",
    )  # fmt: skip
    settings = [
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        "max_connections = 200",
        "wal_level = replica",
    ]
    if not durable:
        settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n".join(settings) + "\n")
    return _start(bin_dir, data)


def remove(cluster: Cluster) -> None:
    """Delete a stopped cluster's folder (and its parent, made by `start_cluster`)."""
    shutil.rmtree(cluster.data.parent, ignore_errors=True)


def _start(bin_dir: Path, data: Path) -> Cluster:
    port = free_port()
    _run(
        bin_dir / "pg_ctl", "-D", str(data), "-l", str(data / "server.log"),
        "-o", f"-p {port}", "-w", "-t", "60", "start",
    )  # fmt: skip
    return Cluster(bin_dir=bin_dir, data=data, port=port)


def _as_root() -> bool:
    return os.geteuid() == 0


def _give_away(path: Path) -> None:
    """As root, hand ``path`` to the `RUN_AS` user (PostgreSQL will not run as root)."""
    if _as_root():
        user = pwd.getpwnam(RUN_AS)
        os.chown(path, user.pw_uid, user.pw_gid)


def _run(program: Path, *args: str) -> None:
    command = [str(program), *args]
    if _as_root():
        command = ["runuser", "-u", RUN_AS, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{program.name} failed ({done.returncode}): {done.stderr.strip()}")
