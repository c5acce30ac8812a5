"""The registry's HTTP API through Starlette's TestClient: statuses, reasons, headers."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from registry_samples import (
    LOG_KEY,
    OTHER_GTIN,
    Served,
    event,
    item,
    key_revocation,
    ledger,
    manufacturer,
    product,
    withdrawal,
)
from starlette.testclient import TestClient

from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.ledger import NewEntry
from registry_client.records import SignedEnvelope
from registry_server.app import Limits, create_app


def _body(envelope: SignedEnvelope, template: bytes) -> dict[str, str]:
    return {
        "envelope": base64.b64encode(envelope.format()).decode(),
        "template": base64.b64encode(template).decode(),
    }


def test_register_then_lookup_serves_the_entry(served: Served) -> None:
    answer = served.client.post("/records", json=_body(*product(served.maker, "SN1")))
    assert answer.status_code == 201
    assert answer.json() == {"leaf_index": 0}
    found = served.client.get(f"/lookup/{quote(str(item('SN1')), safe='')}").json()
    assert found["leaves"] == [0]
    assert base64.b64decode(found["entries"][0]) == product(served.maker, "SN1")[0].format()
    assert served.client.get("/healthz").json() == {"status": "ok", "size": 1}


def test_duplicate_item_is_409_with_the_first_leaf(served: Served) -> None:
    served.client.post("/records", json=_body(*product(served.maker, "SN1")))
    again = served.client.post("/records", json=_body(*product(served.maker, "SN1", b"other")))
    assert again.status_code == 409
    assert again.json()["leaf_index"] == 0
    assert again.json()["item"] == str(item("SN1"))


def test_same_serial_under_another_gtin_is_another_item(served: Served) -> None:
    served.client.post("/records", json=_body(*product(served.maker, "SN1")))
    other = product(served.maker, "SN1", gtin=OTHER_GTIN)
    assert served.client.post("/records", json=_body(*other)).status_code == 201
    for gtin, leaf in ((None, 0), (OTHER_GTIN, 1)):
        wanted = item("SN1") if gtin is None else item("SN1", gtin)
        found = served.client.get(f"/lookup/{quote(str(wanted), safe='')}").json()
        assert found["leaves"] == [leaf]


def test_lookup_of_a_malformed_item_is_400(served: Served) -> None:
    answer = served.client.get("/lookup/SN1")
    assert answer.status_code == 400
    assert "(01)" in answer.json()["error"]


def test_unknown_manufacturer_is_403(served: Served) -> None:
    answer = served.client.post("/records", json=_body(*product(manufacturer("rogue"), "SN1")))
    assert answer.status_code == 403
    assert "not a trusted key" in answer.json()["error"]


def test_malformed_bodies_are_400_with_a_reason(served: Served) -> None:
    envelope, template = product(served.maker, "SN1")
    good = _body(envelope, template)
    cases = {
        b"not json": "not JSON",
        json.dumps({"envelope": good["envelope"]}).encode(): "exactly",
        json.dumps({**good, "template": "@@@"}).encode(): "template: not base64",
        json.dumps({**good, "envelope": base64.b64encode(b"{}").decode()}).encode(): "missing",
        json.dumps({**good, "template": base64.b64encode(b"x").decode()}).encode(): "hashes to",
    }
    for body, reason in cases.items():
        answer = served.client.post("/records", content=body)
        assert answer.status_code == 400, body
        assert reason in answer.json()["error"]


def test_oversized_body_is_413(served: Served) -> None:
    envelope, _ = product(served.maker, "SN1")
    answer = served.client.post("/records", json=_body(envelope, bytes(100_000)))
    assert answer.status_code == 413


def test_event_for_a_registered_serial_is_logged(served: Served) -> None:
    served.client.post("/records", json=_body(*product(served.maker, "SN1")))
    device = manufacturer("device")
    envelope = base64.b64encode(event(device, "SN1").format()).decode()
    assert served.client.post("/events", json={"envelope": envelope}).status_code == 201
    unknown = base64.b64encode(event(device, "NOPE").format()).decode()
    assert served.client.post("/events", json={"envelope": unknown}).status_code == 404


def _post(served: Served, route: str, envelope: SignedEnvelope) -> tuple[int, str]:
    answer = served.client.post(
        route, json={"envelope": base64.b64encode(envelope.format()).decode()}
    )
    return answer.status_code, answer.json().get("error", "")


def test_the_manufacturer_withdraws_its_own_item(served: Served) -> None:
    served.client.post("/records", json=_body(*product(served.maker, "SN1")))
    assert _post(served, "/revocations", withdrawal(served.maker, "SN1"))[0] == 201
    assert served.registry.lookup(item("SN1")).withdrawn
    status, reason = _post(served, "/revocations", withdrawal(served.maker, "NOPE"))
    assert status == 404 and "not registered" in reason


def test_a_revocation_by_another_manufacturer_is_403(tmp_path: Path) -> None:
    maker, rival = manufacturer(), manufacturer("rival")
    ledger(tmp_path / "ledger", maker, rival)
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state")
    with TestClient(create_app(registry)) as client:
        served = Served(client=client, registry=registry, maker=maker, folder=tmp_path)
        client.post("/records", json=_body(*product(maker, "SN1")))
        status, reason = _post(served, "/revocations", withdrawal(rival, "SN1"))
        assert status == 403 and "may withdraw it" in reason
        status, _ = _post(served, "/revocations", withdrawal(manufacturer("rogue"), "SN1"))
        assert status == 403
    registry.close()


def test_a_revoked_key_can_register_nothing_more(served: Served) -> None:
    served.client.post("/records", json=_body(*product(served.maker, "SN1")))
    assert _post(served, "/key-events", key_revocation(served.maker))[0] == 201
    answer = served.client.post("/records", json=_body(*product(served.maker, "SN2")))
    assert answer.status_code == 403 and "revoked" in answer.json()["error"]
    status, reason = _post(served, "/revocations", withdrawal(served.maker, "SN1"))
    assert status == 403 and "revoked" in reason


def test_each_event_route_takes_its_own_kind(served: Served) -> None:
    served.client.post("/records", json=_body(*product(served.maker, "SN1")))
    for route, envelope in (
        ("/events", withdrawal(served.maker, "SN1")),
        ("/revocations", key_revocation(served.maker)),
        ("/key-events", event(manufacturer("device"), "SN1")),
        ("/key-events", product(served.maker, "SN2")[0]),
    ):
        status, reason = _post(served, route, envelope)
        assert status == 400 and "this route takes" in reason, route


def test_only_listed_devices_log_scans_when_the_policy_lists_any(tmp_path: Path) -> None:
    maker, scanner = manufacturer(), manufacturer("scanner")
    create_ledger(tmp_path / "ledger", LOG_KEY, [maker.verifier], [scanner.verifier])
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state")
    with TestClient(create_app(registry)) as client:
        served = Served(client=client, registry=registry, maker=maker, folder=tmp_path)
        client.post("/records", json=_body(*product(maker, "SN1")))
        assert _post(served, "/events", event(scanner, "SN1"))[0] == 201
        status, reason = _post(served, "/events", event(manufacturer("phone"), "SN1"))
        assert status == 403 and "not a trusted key" in reason
        found = registry.lookup(item("SN1"))
        assert [e.device for e in found.attested] == [scanner.key_id]
        assert found.events == found.attested
    registry.close()


def test_cache_headers_follow_tlog_tiles(served: Served) -> None:
    entries = [NewEntry(data=b"entry %d" % i) for i in range(300)]
    served.registry.append(entries)
    assert served.client.get("/checkpoint").headers["cache-control"] == "no-cache"
    full = served.client.get("/tile/0/000")
    partial = served.client.get("/tile/0/001.p/44")
    assert "immutable" in full.headers["cache-control"] and len(full.content) == 256 * 32
    assert "immutable" not in partial.headers["cache-control"] and len(partial.content) == 44 * 32
    assert served.client.get("/tile/entries/001.p/44").status_code == 200
    assert served.client.get("/tile/0/002").status_code == 404
    assert served.client.get("/tile/bogus").status_code == 404


def test_concurrent_posts_share_checkpoints(served: Served) -> None:
    bodies = [_body(*product(served.maker, f"SN{i}")) for i in range(40)]
    bodies.append(bodies[0])  # a duplicate, possibly in the same batch
    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(lambda b: served.client.post("/records", json=b).status_code, bodies))
    assert sorted(codes) == [201] * 40 + [409]
    assert served.registry.ledger.size == 40


def test_write_rate_limit_is_429_with_retry_after(tmp_path: Path) -> None:
    maker = manufacturer()
    ledger(tmp_path / "ledger", maker)
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state")
    app = create_app(registry, limits=Limits(write_rate=0.01, write_burst=2))
    with TestClient(app) as client:
        codes = [client.post("/records", json=_body(*product(maker, f"SN{i}"))) for i in range(3)]
        assert [c.status_code for c in codes] == [201, 201, 429]
        assert int(codes[2].headers["retry-after"]) >= 1
        assert client.get("/checkpoint").status_code == 200  # reads have their own bucket
    registry.close()
