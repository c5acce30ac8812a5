"""The registry on PostgreSQL: sequencing, index, events, blobs and tiles in one database.

`open_store` gives the server a `store.Store` over a `log.PostgresLog`; keys and the
trust policy stay in the ledger folder (``log.skey``, ``policy``) as for the default
backend. See docs/postgres.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from registry_client.embedded import LOG_SKEY, POLICY, EmbeddedRegistry, read_policy
from registry_client.ledger import Ledger
from registry_client.note import SignerKey
from registry_client.registry import CheckpointStore
from registry_server.postgres.log import PostgresLog


def open_store(dsn: str, folder: Path, state_dir: Path, *, pool_size: int = 8) -> EmbeddedRegistry:
    """The registry logged in the database at ``dsn``, signed with ``folder``'s log key."""
    signer = SignerKey.parse((folder / LOG_SKEY).read_text(encoding="utf-8").strip())
    log = PostgresLog.open(dsn, signer, pool_size=pool_size)
    # EmbeddedRegistry's admission reads only what PostgresLog offers (entry, find,
    # find_many, size, path) and appends through it; its annotation names the folder log.
    return EmbeddedRegistry(
        cast(Ledger, log), read_policy(folder / POLICY), CheckpointStore(state_dir)
    )
