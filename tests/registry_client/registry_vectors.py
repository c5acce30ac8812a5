"""Paths and loaders for the peer conformance vectors in ``shared/vectors``.

The vectors are public data copied byte for byte; see ``shared/vectors/README.md`` for
their sources and licences (transparency-dev/merkle, golang/mod, C2SP, florolf/tlog-scales,
sigstore/sigstore-python).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"


def load(relative: str) -> Any:
    """The parsed JSON file at ``relative`` under the vectors folder."""
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def cases(folder: str) -> list[Path]:
    """Every JSON case under ``folder``, sorted, for parametrisation."""
    return sorted((VECTORS / folder).rglob("*.json"))


def case_id(path: Path) -> str:
    """A short test id: the path below the vectors folder."""
    return str(path.relative_to(VECTORS))


def b64(text: str) -> bytes:
    """Standard base64, as the vectors use."""
    return base64.b64decode(text)
