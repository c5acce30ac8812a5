"""The Ledger page's flow against the real server: list, search, open and audit over HTTP."""

from __future__ import annotations

import threading
from pathlib import Path

from live_server import Live
from registry_samples import item, product

from app.flows.ledger_browse import Kind, check_log, open_view, rows, search
from registry_client.client import HttpRegistry


def test_browse_search_and_audit_a_registry_over_http(live: Live, tmp_path: Path) -> None:
    registry = HttpRegistry(live.url, live.policy, tmp_path / "writer")
    try:
        leaves = [registry.register(*product(live.maker, f"BROWSE-{n}")) for n in range(3)]
    finally:
        registry.close()
    (tmp_path / "policy").write_text(live.policy.format(), encoding="utf-8")
    view = open_view(live.url, tmp_path / "policy", tmp_path / "state")
    try:
        listed = rows(view, leaves[0], leaves[-1] + 1)
        assert [r.item for r in listed] == [item(f"BROWSE-{n}") for n in range(3)]
        assert all(r.kind is Kind.PRODUCT for r in listed)
        found = [leaf for step in search(view, "browse-", threading.Event()) for leaf in step.found]
        assert found == leaves
        proven = view.registry.lookup(item("BROWSE-1"))
        assert proven.leaf_index == leaves[1]
        check = check_log(view, full=True)
        assert check.previous is not None  # the search read (and remembered) a checkpoint
        assert check.audit is not None and check.audit.leaves == check.current.size
    finally:
        view.close()
