"""The PostgreSQL registry's schema, created and migrated on start.

Versions are applied in order, each in its own transaction, under a transaction-level
advisory lock, so several servers starting together migrate once. ``hallmark_schema``
holds the version reached; a database newer than this code is refused.

Tables (version 1):

- ``log_head``: one row: the tree ``size`` and its signed checkpoint ``note``. Locked
  ``FOR UPDATE`` by the writer for the length of an append: the sequencing point.
- ``hash_tiles(level, idx, data)``: each tlog-tiles hash tile, as wide as it has grown
  (a partial tile of an older checkpoint is a prefix of it).
- ``bundles(idx, data)``: the entry bundle behind level-0 tile ``idx``, likewise.
- ``lookup(kind, key, leaf)``: the entries' index keys (item GTIN + serial, key names).
- ``products(item, leaf)``: one product record per item, enforced by the primary key
  even when several servers admit the same item at once.
- ``blobs(sha256, leaf, data)``: templates, with the first leaf that stored each.
"""

from __future__ import annotations

from typing import Any

import psycopg

SCHEMA_VERSION = 1
_LOCK_ID = 0x48414C4D  # "HALM": the advisory lock migrations take

_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE log_head (
        id integer PRIMARY KEY CHECK (id = 0),
        size bigint NOT NULL,
        note text NOT NULL
    );
    CREATE TABLE hash_tiles (
        level smallint NOT NULL,
        idx bigint NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (level, idx)
    );
    CREATE TABLE bundles (idx bigint PRIMARY KEY, data bytea NOT NULL);
    CREATE TABLE lookup (
        kind text NOT NULL,
        key text NOT NULL,
        leaf bigint NOT NULL,
        PRIMARY KEY (kind, key, leaf)
    );
    CREATE TABLE products (item text PRIMARY KEY, leaf bigint NOT NULL);
    CREATE TABLE blobs (sha256 bytea PRIMARY KEY, leaf bigint NOT NULL, data bytea NOT NULL);
    """,
)


class SchemaError(RuntimeError):
    """The database's schema is not one this code can use."""


def migrate(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
    """Bring the schema up to `SCHEMA_VERSION`; returns the version found before."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        conn.execute("CREATE TABLE IF NOT EXISTS hallmark_schema (version integer NOT NULL)")
        found = _version(conn)
        if found is None:
            conn.execute("INSERT INTO hallmark_schema VALUES (0)")
            found = 0
        _check(found)
    for version in range(found, SCHEMA_VERSION):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            if _version(conn) != version:  # another server got here first
                continue
            conn.execute(_MIGRATIONS[version])
            conn.execute("UPDATE hallmark_schema SET version = %s", (version + 1,))
    return found


def check(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Refuse a database not at `SCHEMA_VERSION` (a read replica cannot migrate)."""
    exists = conn.execute("SELECT to_regclass('hallmark_schema') IS NOT NULL").fetchone()
    found = _version(conn) if exists and exists[0] else None
    if found != SCHEMA_VERSION:
        raise SchemaError(f"database has schema {found}, want {SCHEMA_VERSION}")


def _version(conn: psycopg.Connection[tuple[Any, ...]]) -> int | None:
    row = conn.execute("SELECT version FROM hallmark_schema").fetchone()
    return None if row is None else int(row[0])


def _check(found: int) -> None:
    if found > SCHEMA_VERSION:
        raise SchemaError(f"database has schema {found}, newer than this code's {SCHEMA_VERSION}")
