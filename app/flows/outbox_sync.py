"""Send the verification events queued offline to a registry over HTTP.

Back online, the Inspect page drains its outbox into the registry chosen in Settings
when that is an ``http(s)://`` URL (otherwise into the local ledger, `app.jobs.sync_outbox`).
The registry is opened with `registry_client.client.open_registry` under the chosen
policy file, else the workspace's policy; `Outbox.drain` drops each event only once the
registry took it, so a failed sync leaves the rest queued.
"""

from __future__ import annotations

from pathlib import Path

from registry_client.bundle import Outbox
from registry_client.client import open_registry
from registry_client.embedded import read_policy
from registry_client.policy import TrustPolicy

URL_SCHEMES = ("http://", "https://")


def is_remote(target: str) -> bool:
    """Whether ``target`` (`Settings.registry`) names a registry server."""
    return target.startswith(URL_SCHEMES)


def sync_to_server(
    outbox: Outbox, url: str, policy_file: Path | None, policy: TrustPolicy, state_dir: Path
) -> int:
    """Send ``outbox``'s events to the registry at ``url``; the number sent.

    ``policy_file`` (the server's policy) is read when given, else ``policy`` applies.
    """
    if not is_remote(url):
        raise ValueError(f"{url!r}: want an http(s) registry URL")
    chosen = read_policy(policy_file) if policy_file is not None else policy
    registry = open_registry(url, chosen, state_dir)
    try:
        return outbox.drain(registry.append_event)
    finally:
        registry.close()
