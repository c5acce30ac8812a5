"""The real registry server on loopback, for the integration tests."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "registry_server"))

from registry_client.policy import TrustPolicy
from registry_client.records import Signer
from registry_server.app import Limits
from registry_server.serve import RegistryServer


@dataclass(frozen=True)
class Live:
    url: str
    policy: TrustPolicy
    maker: Signer
    folder: Path


def start(folder: Path, limits: Limits | None = None) -> RegistryServer:
    """A server over ``folder`` listening on a free loopback port."""
    server = RegistryServer(folder, "127.0.0.1", 0, limits=limits or Limits(write_burst=1000))
    server.start()
    return server
