"""`catalog.resume_at`: a saved index is extended only if its source names a prefix of
this very log; any other source text, however odd, means a walk from leaf 0."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from registry_client.catalog import resume_at, source_at
from registry_client.embedded import EmbeddedRegistry

sys.path.insert(0, str(Path(__file__).parents[1] / "registry_server"))
from registry_samples import ledger, manufacturer, product


@pytest.fixture
def registry(tmp_path: Path) -> EmbeddedRegistry:
    """A ledger of three products."""
    maker = manufacturer()
    ledger(tmp_path / "ledger", maker)
    opened = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state")
    for serial in ("C1", "C2", "C3"):
        opened.register(*product(maker, serial))
    return opened


def test_a_source_naming_a_prefix_of_the_log_resumes_there(registry: EmbeddedRegistry) -> None:
    assert resume_at(registry, source_at(registry, 2)) == 2
    assert resume_at(registry, source_at(registry, 3)) == 3


@pytest.mark.parametrize(
    "size",
    ["²", "٢", "-2", "+2", " 2", "2_0", ""],
    ids=["superscript", "arabic digits", "sign", "plus", "space", "underscore", "empty"],
)
def test_a_size_that_is_not_plain_ascii_digits_means_walk_it_all(
    registry: EmbeddedRegistry, size: str
) -> None:
    _, _, root, origin = source_at(registry, 2).split(" ", 3)
    assert resume_at(registry, f"ledger {size} {root} {origin}") == 0
