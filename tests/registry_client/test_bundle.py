"""Offline bundles: export, open, lookup, every tamper case, expiry, no network."""

from __future__ import annotations

import argparse
import hashlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cli_bundle import BundleCommandError, register_commands
from registry_client.bundle import (
    MAGIC,
    BundleDigestError,
    BundleFormatError,
    BundleRegistry,
    Outbox,
    ReadOnlyBundleError,
    Selection,
    SelectionKind,
    export_bundle,
    open_bundle,
)
from registry_client.errors import (
    CheckpointError,
    ExpiredBundleError,
    ProofError,
    RecordFormatError,
    RegistryUnavailable,
    RevokedKeyError,
    SignatureError,
)
from registry_client.item import ItemId, gtin_check_digit
from registry_client.ledger import Ledger, NewEntry
from registry_client.note import KeyType, Note, SignerKey
from registry_client.policy import Log, TrustPolicy, Witness
from registry_client.proof_text import format_proof, parse_proof, verify_proof
from registry_client.records import (
    KeyAction,
    KeyEvent,
    ProductRecord,
    Region,
    Revocation,
    Signer,
    Verdict,
    VerificationEvent,
)
from registry_client.registry import NotRegisteredError, TemplateMismatchError, entry_keys

LOG = SignerKey(name="bundle.test/log", key_type=KeyType.ED25519, seed=bytes(range(32)))
ACME = Signer.from_seed("acme", bytes(range(1, 33)))
OTHER = Signer.from_seed("other-co", bytes(range(2, 34)))
WITNESS = SignerKey(name="witness.test", key_type=KeyType.COSIGNATURE_V1, seed=bytes(range(3, 35)))
DEVICE = Signer.from_seed("device-7", bytes(range(4, 36)))
GTIN = "0061414100001" + gtin_check_digit("0061414100001")
OTHER_GTIN = "0061414100002" + gtin_check_digit("0061414100002")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ITEMS = 300  # more than one level-0 tile, so level-1 tiles are bundled too


def policy(*, witnessed: bool = False) -> TrustPolicy:
    return TrustPolicy(
        logs=(Log(key=LOG.verifier),),
        witnesses=(Witness(name="w1", key=WITNESS.verifier),) if witnessed else (),
        groups=(),
        quorum="w1" if witnessed else "none",
        manufacturers=(ACME.verifier, OTHER.verifier),
    )


POLICY = policy()


def item(i: int) -> ItemId:
    return ItemId(gtin=GTIN, serial=f"S{i:05d}")


def template(i: int) -> bytes:
    return f"template of item {i} ".encode() * 8


def product(i: int, signer: Signer = ACME) -> ProductRecord:
    data = template(i)
    return ProductRecord(
        gtin=GTIN,
        serial=f"S{i:05d}",
        batch=f"B{i % 3}",
        sku=f"SKU-{i % 2}",
        scheme="hallmark-lbp",
        scheme_version=1,
        template_sha256=hashlib.sha256(data).digest(),
        template_size=len(data),
        region=Region(x=26.0, y=0.0, width=22.0, height=22.0),
        hologram_sha256=None,
        manufacturer=signer.key_id,
        time=T0 + timedelta(seconds=i),
    )


def product_entry(i: int, signer: Signer = ACME) -> NewEntry:
    record = product(i, signer)
    return NewEntry(data=signer.sign(record).format(), keys=entry_keys(record), blobs=[template(i)])


def key_entry(signer: Signer, action: KeyAction) -> NewEntry:
    event = KeyEvent(action=action, key=signer.verifier, previous=None, time=T0)
    return NewEntry(data=signer.sign(event).format(), keys=entry_keys(event))


def make_ledger(path: Path, items: int = ITEMS) -> Ledger:
    ledger = Ledger.create(path, LOG)
    ledger.append([key_entry(ACME, KeyAction.REGISTER), key_entry(OTHER, KeyAction.REGISTER)])
    ledger.append([product_entry(i, OTHER if i % 10 == 9 else ACME) for i in range(items)])
    withdrawn = Revocation(
        gtin=GTIN, serial="S00004", reason="stolen", manufacturer=ACME.key_id, time=T0
    )
    ledger.append([NewEntry(data=ACME.sign(withdrawn).format(), keys=entry_keys(withdrawn))])
    return ledger


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    with make_ledger(tmp_path_factory.mktemp("ledger") / "log") as ledger:
        yield ledger


BY_SKU = Selection(kind=SelectionKind.SKU, values=("SKU-0",))


def export(ledger: Ledger, out: Path, selection: Selection = BY_SKU, **kw: object) -> Path:
    options: dict[str, object] = {"policy": POLICY, "signer": LOG, "expires": timedelta(days=30)}
    options.update(kw)
    export_bundle(ledger, out, selection, now=T0, **options)  # type: ignore[arg-type]
    return out


@pytest.fixture(scope="module")
def bundle_file(ledger: Ledger, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export(ledger, tmp_path_factory.mktemp("bundle") / "sku0.hmb")


def sku0_items() -> set[ItemId]:
    return {item(i) for i in range(0, ITEMS, 2)}


# Round trip ------------------------------------------------------------------------------


def test_export_open_lookup(bundle_file: Path, tmp_path: Path) -> None:
    bundle = open_bundle(bundle_file, POLICY, now=T0 + timedelta(days=1))
    assert not bundle.stale
    assert bundle.age == timedelta(days=1)
    assert bundle.exporter == LOG.verifier
    assert bundle.selection == BY_SKU
    assert set(bundle.log.items) == sku0_items()
    counts = bundle.manifest.counts
    assert counts.records == counts.templates == ITEMS // 2
    assert counts.entries == ITEMS // 2 + 2  # ACME's key event, the revocation of S00004
    assert bundle.manifest.checkpoint.size == ITEMS + 3
    assert bundle.bundled_policy == POLICY.format()

    registry = BundleRegistry(bundle, Outbox(tmp_path / "outbox"), clock=lambda: T0)
    found = registry.lookup(item(10))
    assert found.record == product(10)
    assert found.template == template(10)
    assert found.leaf_index == 12
    assert not found.withdrawn
    assert registry.lookup(item(4)).withdrawn
    assert registry.checkpoint() == bundle.checkpoint.checkpoint
    proof = format_proof(
        found.leaf_index,
        found.inclusion_proof,
        found.checkpoint.note.format(),
        extra=found.envelope,
    )
    assert verify_proof(proof, parse_proof(proof).extra or b"", POLICY) == bundle.checkpoint
    with pytest.raises(NotRegisteredError, match="sku SKU-0"):
        registry.lookup(item(11))  # SKU-1: not covered


@pytest.mark.parametrize(
    ("selection", "want"),
    [
        (Selection(kind=SelectionKind.MANUFACTURER, values=(OTHER.key_id.format(),)),
         {item(i) for i in range(9, ITEMS, 10)}),
        (Selection(kind=SelectionKind.BATCH, values=("B1", "B2")),
         {item(i) for i in range(ITEMS) if i % 3}),
        (Selection(kind=SelectionKind.ITEMS,
                   values=(str(item(1)), str(item(299)), str(item(99999)),
                           str(ItemId(gtin=OTHER_GTIN, serial="S00002")))),
         {item(1), item(299)}),
    ],
)  # fmt: skip
def test_selections(
    ledger: Ledger, tmp_path: Path, selection: Selection, want: set[ItemId]
) -> None:
    bundle = open_bundle(export(ledger, tmp_path / "b", selection), POLICY, now=T0)
    assert set(bundle.log.items) == want


def test_item_selection_refuses_a_malformed_item() -> None:
    with pytest.raises(ValueError, match="want"):
        Selection(kind=SelectionKind.ITEMS, values=("S00001",))


def test_export_from_a_folder_signed_by_a_manufacturer(ledger: Ledger, tmp_path: Path) -> None:
    out = export_bundle(
        ledger.path, tmp_path / "b", BY_SKU, policy=POLICY, signer=ACME.key,
        expires=timedelta(days=2), now=T0,
    )  # fmt: skip
    assert out.manifest.expires == T0 + timedelta(days=2)
    assert open_bundle(out.path, POLICY, now=T0).exporter == ACME.verifier


def test_nothing_selected(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="matches no product record"):
        export(ledger, tmp_path / "b", Selection(kind=SelectionKind.SKU, values=("none",)))
    assert not (tmp_path / "b").exists()


def test_no_network_during_open_and_lookup(
    bundle_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError(f"network call {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    registry = BundleRegistry(
        open_bundle(bundle_file, POLICY, now=T0), Outbox(tmp_path / "o"), clock=lambda: T0
    )
    assert all(registry.lookup(i).record.item == i for i in sku0_items())


# Age ---------------------------------------------------------------------------------------


def test_stale_warns_and_expired_fails_closed(bundle_file: Path, tmp_path: Path) -> None:
    assert open_bundle(bundle_file, POLICY, now=T0 + timedelta(days=15)).stale
    with pytest.raises(ExpiredBundleError) as caught:
        open_bundle(bundle_file, POLICY, now=T0 + timedelta(days=30))
    assert caught.value.expires_at == T0 + timedelta(days=30)

    now = [T0]
    registry = BundleRegistry(
        open_bundle(bundle_file, POLICY, now=T0), Outbox(tmp_path / "o"), clock=lambda: now[0]
    )
    registry.lookup(item(0))
    now[0] = T0 + timedelta(days=31)
    with pytest.raises(ExpiredBundleError):
        registry.lookup(item(0))


# Tampering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    name: str
    start: int  # offset of the data in the file
    size: int


def members(data: bytes) -> dict[str, Member]:
    """Walk the container (test-side, independently of the reader)."""
    out: dict[str, Member] = {}
    at = len(MAGIC)
    while at < len(data):
        name_size = int.from_bytes(data[at : at + 2], "big")
        name = data[at + 2 : at + 2 + name_size].decode()
        at += 2 + name_size
        size = int.from_bytes(data[at : at + 4], "big")
        out[name] = Member(name, at + 4, size)
        at += 4 + size
    return out


def flip(path: Path, name_prefix: str, offset: int = 0) -> Path:
    data = bytearray(path.read_bytes())
    member = next(m for n, m in members(bytes(data)).items() if n.startswith(name_prefix))
    data[member.start + offset % member.size] ^= 0x01
    out = path.with_name("tampered")
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize(
    ("member", "offset", "error", "match"),
    [
        ("manifest", 10, SignatureError, "bundle manifest"),
        ("manifest", -5, SignatureError, "bundle manifest"),
        ("checkpoint", 30, SignatureError, "does not verify"),
        ("tile/0/000", 0, ProofError, "tile/0/000 does not lead to the checkpoint"),
        ("tile/0/001", 100, ProofError, "tile/0/00[01] does not lead to the checkpoint"),
        ("entry/", 20, ProofError, "entry 0 hashes to"),
        ("blob/", 3, TemplateMismatchError, "template hashes to"),
        ("policy", 5, BundleDigestError, "signed manifest says"),
    ],
)
def test_flipped_byte_is_rejected_with_its_error(
    bundle_file: Path, member: str, offset: int, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        open_bundle(flip(bundle_file, member, offset), POLICY, now=T0)


@pytest.mark.parametrize("cut", [0, 5, len(MAGIC), len(MAGIC) + 1, 200, -1, -40, -300])
def test_truncated_file(bundle_file: Path, tmp_path: Path, cut: int) -> None:
    data = bundle_file.read_bytes()
    (tmp_path / "cut").write_bytes(data[:cut])
    with pytest.raises(BundleFormatError, match="truncated|not a Hallmark bundle"):
        open_bundle(tmp_path / "cut", POLICY, now=T0)


def test_truncated_at_a_member_boundary(bundle_file: Path, tmp_path: Path) -> None:
    data = bundle_file.read_bytes()
    manifest = members(data)["manifest"]
    header = 2 + len("manifest") + 4
    (tmp_path / "cut").write_bytes(data[: manifest.start - header])
    with pytest.raises(BundleFormatError, match="truncated: the file ends at byte .*no manifest"):
        open_bundle(tmp_path / "cut", POLICY, now=T0)


@pytest.mark.parametrize(
    "content", [b"PK\x03\x04" + bytes(100), b"", b"hallmark-bundle/v2\n", b"\x89PNG\r\n"]
)
def test_foreign_file(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "x").write_bytes(content)
    with pytest.raises(BundleFormatError, match="not a Hallmark bundle"):
        open_bundle(tmp_path / "x", POLICY, now=T0)


def test_trailing_bytes_and_oversized_member(bundle_file: Path, tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(bundle_file.read_bytes() + b"\0")
    with pytest.raises(BundleFormatError, match="after the manifest"):
        open_bundle(tmp_path / "x", POLICY, now=T0)
    bomb = MAGIC + (6).to_bytes(2, "big") + b"policy" + (2**32 - 1).to_bytes(4, "big")
    (tmp_path / "x").write_bytes(bomb)
    with pytest.raises(BundleFormatError, match="policy: 4294967295 bytes, want at most"):
        open_bundle(tmp_path / "x", POLICY, now=T0)
    sneaky = MAGIC + (16).to_bytes(2, "big") + b"../../etc/passwd" + bytes(4)
    (tmp_path / "x").write_bytes(sneaky)
    with pytest.raises(BundleFormatError, match="unknown member name"):
        open_bundle(tmp_path / "x", POLICY, now=T0)


def test_manifest_by_an_untrusted_key(ledger: Ledger, tmp_path: Path) -> None:
    stranger = SignerKey.generate("stranger")
    path = export(ledger, tmp_path / "b", signer=stranger)
    with pytest.raises(SignatureError, match="bundle manifest: no signature by a known key"):
        open_bundle(path, POLICY, now=T0)


def resign(
    path: Path, replace: dict[str, bytes | None], add: dict[str, bytes] | None = None
) -> Path:
    """A malicious exporter: change members, then re-hash and re-sign the manifest."""
    data = path.read_bytes()
    chunks = [MAGIC]
    found = members(data)
    bodies = {n: data[m.start : m.start + m.size] for n, m in found.items() if n != "manifest"}
    for name, body in {**bodies, **replace, **(add or {})}.items():
        if body is not None:
            chunks.append(len(name).to_bytes(2, "big") + name.encode())
            chunks.append(len(body).to_bytes(4, "big") + body)
    content = b"".join(chunks)[len(MAGIC) :]
    m = found["manifest"]
    text = Note.parse(data[m.start : m.start + m.size]).text
    old = text.split('"content_sha256":"')[1][:64]
    text = text.replace(old, hashlib.sha256(content).hexdigest())
    note = Note(text=text, signatures=(LOG.sign(text),)).format().encode()
    out = path.with_name("resigned")
    out.write_bytes(MAGIC + content + b"\x00\x08manifest" + len(note).to_bytes(4, "big") + note)
    return out


def test_resigned_bundle_still_fails_on_content(bundle_file: Path) -> None:
    names = members(bundle_file.read_bytes())
    blob = next(n for n in names if n.startswith("blob/"))
    with pytest.raises(TemplateMismatchError):
        open_bundle(resign(bundle_file, {blob: b"forged template"}), POLICY, now=T0)
    with pytest.raises(BundleFormatError, match="tile needed for a proof is missing"):
        open_bundle(resign(bundle_file, {"tile/0/000": None}), POLICY, now=T0)
    extra = "blob/" + hashlib.sha256(b"x").hexdigest()
    with pytest.raises(BundleFormatError, match="no record names this template"):
        open_bundle(resign(bundle_file, {}, {extra: b"x"}), POLICY, now=T0)
    with pytest.raises(BundleFormatError, match="no record names this template"):
        open_bundle(resign(bundle_file, {"entry/2": None}), POLICY, now=T0)  # S00000 dropped


# Trust --------------------------------------------------------------------------------------


def test_witness_quorum(ledger: Ledger, tmp_path: Path) -> None:
    witnessed = policy(witnessed=True)
    with pytest.raises(CheckpointError, match="quorum"):
        export(ledger, tmp_path / "b", policy=witnessed)
    note = Note.parse(ledger.checkpoint_note)
    stamp = int((T0 + timedelta(hours=1)).timestamp())
    cosigned = note.with_signature(WITNESS.sign(note.text, timestamp=stamp)).format()
    path = export(ledger, tmp_path / "b", policy=witnessed, checkpoint_note=cosigned)
    bundle = open_bundle(path, witnessed, now=T0)
    assert bundle.witnessed_at == T0 + timedelta(hours=1)
    # The cosignature is the witness's word: opened under the plain policy it is ignored.
    assert open_bundle(path, POLICY, now=T0).witnessed_at is None


def test_revoked_manufacturer_key_is_refused(tmp_path: Path) -> None:
    with make_ledger(tmp_path / "log", items=20) as ledger:
        ledger.append([key_entry(OTHER, KeyAction.REVOKE)])
        other = Selection(kind=SelectionKind.MANUFACTURER, values=(OTHER.key_id.format(),))
        with pytest.raises(RevokedKeyError, match="other-co"):
            export(ledger, tmp_path / "b", other)
        # ACME's records do not depend on OTHER's key.
        acme = Selection(kind=SelectionKind.MANUFACTURER, values=(ACME.key_id.format(),))
        assert open_bundle(export(ledger, tmp_path / "b", acme), POLICY, now=T0)


def test_untrusted_manufacturer_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    path = export(ledger, tmp_path / "b", Selection(kind=SelectionKind.BATCH, values=("B0",)))
    acme_only = TrustPolicy(
        logs=(Log(key=LOG.verifier),), witnesses=(), groups=(), quorum="none",
        manufacturers=(ACME.verifier,),
    )  # fmt: skip
    with pytest.raises(SignatureError, match="other-co.* is not a trusted key"):
        open_bundle(path, acme_only, now=T0)


# Registry -----------------------------------------------------------------------------------


def test_registry_is_read_only_and_queues_events(bundle_file: Path, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.jsonl")
    registry = BundleRegistry(open_bundle(bundle_file, POLICY, now=T0), outbox, clock=lambda: T0)
    with pytest.raises(ReadOnlyBundleError, match="read-only offline bundle"):
        registry.register(ACME.sign(product(1000)), template(1000))
    assert registry.sync() == 0
    events = [
        DEVICE.sign(
            VerificationEvent(
                device=DEVICE.key_id, gtin=GTIN, serial=f"S{i:05d}", place="Dover", time=T0,
                verdict=Verdict.GENUINE, score=0.5, scheme="hallmark-lbp", scheme_version=1,
            )
        )
        for i in range(3)
    ]  # fmt: skip
    assert [registry.append_event(e) for e in events] == [None] * 3
    with pytest.raises(RegistryUnavailable, match="3 queued events"):
        registry.sync()
    with pytest.raises(RecordFormatError, match="verification/v1"):
        registry.append_event(ACME.sign(product(1)))
    # A torn last line (a crash mid-append) was never acknowledged.
    with outbox.path.open("ab") as f:
        f.write(b'{"payload":')
    assert outbox.pending() == tuple(events)

    sent: list[object] = []

    def send_two(envelope: object) -> None:
        if len(sent) == 2:
            raise RegistryUnavailable("network down")
        sent.append(envelope)

    with pytest.raises(RegistryUnavailable):
        outbox.drain(send_two)
    assert outbox.pending() == (events[2],)
    assert outbox.drain(sent.append) == 1
    assert sent == events
    assert outbox.pending() == ()
    registry.close()


def test_100_items(tmp_path: Path) -> None:
    with Ledger.create(tmp_path / "log", LOG) as ledger:
        ledger.append([key_entry(ACME, KeyAction.REGISTER)])
        ledger.append([product_entry(i) for i in range(100)])
        everything = Selection(kind=SelectionKind.MANUFACTURER, values=(ACME.key_id.format(),))
        bundle = open_bundle(export(ledger, tmp_path / "b", everything), POLICY, now=T0)
    registry = BundleRegistry(bundle, Outbox(tmp_path / "o"), clock=lambda: T0)
    assert bundle.manifest.counts.records == 100
    assert [registry.lookup(item(i)).leaf_index for i in range(100)] == list(range(1, 101))


# Command line ----------------------------------------------------------------------------------


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="hallmark")
    register_commands(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    status: int = args.command(args)
    return status


def test_cli_export_and_inspect(
    ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "key").write_text(LOG.format() + "\n")
    (tmp_path / "policy").write_text(POLICY.format())
    (tmp_path / "items").write_text(f"# wanted\n{item(1)}\n\n{item(2)}\n")
    out = str(tmp_path / "b.hmb")
    common = ("--key", str(tmp_path / "key"), "--policy", str(tmp_path / "policy"))
    items = ("--items", str(tmp_path / "items"))
    assert run_cli("bundle", "export", "--ledger", str(ledger.path), "--out", out, *items,
                   "--expires-days", "7", *common) == 0  # fmt: skip
    assert "2 records" in capsys.readouterr().out

    assert run_cli("bundle", "inspect", out, "--policy", str(tmp_path / "policy")) == 0
    text = capsys.readouterr().out
    assert "verified   OK against policy" in text
    assert "coverage   2 items" in text
    assert f"size {ITEMS + 3}" in text
    assert run_cli("bundle", "inspect", out) == 0
    assert "integrity only" in capsys.readouterr().out

    policy_file = str(tmp_path / "policy")
    assert run_cli("bundle", "proof", out, str(item(2)), "--policy", policy_file) == 0
    text = capsys.readouterr().out
    verify_proof(text, parse_proof(text).extra or b"", POLICY)
    assert run_cli("bundle", "proof", out, str(item(7)), "--policy", policy_file) == 1
    assert "NotRegisteredError" in capsys.readouterr().err

    tampered = flip(Path(out), "blob/", 7)
    assert run_cli("bundle", "inspect", str(tampered), "--policy", str(tmp_path / "policy")) == 1
    assert "verification FAILED (TemplateMismatchError)" in capsys.readouterr().out

    with pytest.raises(BundleCommandError, match="expires-days must be at least 1"):
        run_cli("bundle", "export", "--ledger", str(ledger.path), "--out", out,
                "--sku", "SKU-0", "--expires-days", "0", *common)  # fmt: skip
    with pytest.raises(BundleCommandError, match="matches no product record"):
        run_cli("bundle", "export", "--ledger", str(ledger.path), "--out", out,
                "--batch", "nope", "--expires-days", "1", *common)  # fmt: skip
