"""Records: canonical JSON, strict parsing with reasons, and signed envelopes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_client._codecs import decode_object
from registry_client.canonical import load_canonical_json
from registry_client.errors import RecordFormatError, RegistryError, SignatureError
from registry_client.item import ItemId, gtin_check_digit
from registry_client.note import KeyType, Note, SignerKey, encode_base64
from registry_client.records import (
    MAX_ENVELOPE_SIZE,
    MAX_PAYLOAD_SIZE,
    KeyAction,
    KeyEvent,
    KeyId,
    ProductRecord,
    Record,
    Region,
    Revocation,
    SignedEnvelope,
    Signer,
    Verdict,
    VerificationEvent,
    canonical_json,
    clear_caches,
    encode_record,
    generate_key,
    parse_record,
)

ACME = Signer.from_seed("acme.example/hallmark", bytes(range(32)))
DEVICE = Signer.from_seed("inspector.example/phone-7", bytes(range(1, 33)))
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
GTIN = "04006381333931"


def _product(**changes: Any) -> ProductRecord:
    fields: dict[str, Any] = {
        "gtin": GTIN,
        "serial": "SN-0001/a",
        "batch": "L42",
        "sku": "Tea tin, 250 g",
        "scheme": "orb-lbp-noise",
        "scheme_version": 1,
        "template_sha256": bytes(range(32)),
        "template_size": 4096,
        "region": Region(x=26.0, y=0.0, width=22.0, height=22.5),
        "hologram_sha256": None,
        "manufacturer": ACME.key_id,
        "time": WHEN,
    }
    return ProductRecord(**(fields | changes))


def _event(**changes: Any) -> VerificationEvent:
    fields: dict[str, Any] = {
        "device": DEVICE.key_id,
        "gtin": GTIN,
        "serial": "SN-0001/a",
        "place": "Lyon, FR",
        "time": WHEN,
        "verdict": Verdict.GENUINE,
        "score": 0.9731,
        "scheme": "orb-lbp-noise",
        "scheme_version": 1,
    }
    return VerificationEvent(**(fields | changes))


def _records() -> list[Record]:
    return [
        _product(),
        KeyEvent(action=KeyAction.REGISTER, key=ACME.verifier, previous=None, time=WHEN),
        KeyEvent(
            action=KeyAction.ROTATE,
            key=generate_key("acme.example/hallmark").verifier,
            previous=ACME.key_id,
            time=WHEN,
        ),
        _event(),
        Revocation(
            gtin=GTIN, serial="SN-0001/a", reason="recalled", manufacturer=ACME.key_id, time=WHEN
        ),
    ]


# --- Canonical JSON ---------------------------------------------------------------------


def test_canonical_json_sorts_by_utf16_and_escapes_like_ecmascript() -> None:
    # RFC 8785 §3.2.3's sorting example, and §3.2.2.2's string escapes.
    keys = ["€", "\r", "דּ", "1", "😀", "\x80", "ö"]
    encoded = canonical_json({k: 0 for k in keys}).decode()
    assert encoded == '{"\\r":0,"1":0,"\x80":0,"ö":0,"€":0,"😀":0,"דּ":0}'
    assert canonical_json(['\x01\x7f"\\/\u2028', True, None, -5]) == (
        '["\\u0001\x7f\\"\\\\/\u2028",true,null,-5]'.encode()
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (1.5, "no canonical JSON form"),
        (2**53, "outside"),
        ({1: 2}, "keys must be strings"),
        ("\ud800", "not valid Unicode"),
    ],
)
def test_canonical_json_refuses_what_it_cannot_encode(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        canonical_json(value)


# --- Records ----------------------------------------------------------------------------


@pytest.mark.parametrize("record", _records(), ids=lambda r: type(r).__name__)
def test_records_round_trip(record: Record) -> None:
    payload = encode_record(record)
    assert parse_record(payload) == record
    assert payload == encode_record(parse_record(payload))


def test_product_record_golden_encoding() -> None:
    assert encode_record(_product()).decode() == (
        '{"batch":"L42","gtin":"04006381333931","hologram_sha256":null,'
        '"manufacturer":"acme.example/hallmark+' + f"{ACME.verifier.key_id:08x}" + '",'
        '"region":{"height":"22.500","width":"22.000","x":"26.000","y":"0.000"},'
        '"scheme":"orb-lbp-noise","scheme_version":1,"serial":"SN-0001/a",'
        '"sku":"Tea tin, 250 g","template_sha256":"'
        + bytes(range(32)).hex()
        + '","template_size":4096,"time":1767323045,"type":"product/v1"}'
    )


def _payload_with(**changes: Any) -> bytes:
    """The product payload with JSON fields replaced (None deletes), re-canonicalised."""
    obj = json.loads(encode_record(_product()))
    for name, value in changes.items():
        if value is None:
            del obj[name]
        else:
            obj[name] = value
    return canonical_json(obj)


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        (_payload_with(colour="red"), "colour", "unknown field"),
        (_payload_with(serial=None), "serial", "missing field"),
        (_payload_with(template_size="4096"), "template_size", "want an integer"),
        (_payload_with(template_size=True), "template_size", "want an integer"),
        (_payload_with(gtin="04006381333932"), "gtin", "check digit 2, want 1"),
        (_payload_with(gtin="4006381333931"), "gtin", "GTIN-14"),
        (_payload_with(serial="SN 1"), "serial", "characters outside"),
        (_payload_with(serial="S" * 21), "serial", "21 characters, want 1 to 20"),
        (_payload_with(template_sha256="AB" * 32), "template_sha256", "lowercase hex"),
        (_payload_with(region={"x": "1.000"}), "region.height", "missing field"),
        (
            _payload_with(region={"x": "1.5", "y": "0.000", "width": "1.000", "height": "1.000"}),
            "region.x",
            "3 places",
        ),
        (
            _payload_with(
                region={"x": "-0.000", "y": "0.000", "width": "1.000", "height": "1.000"}
            ),
            "region.x",
            "not canonical",
        ),
        (
            _payload_with(region={"x": "0.000", "y": "0.000", "width": "0.000", "height": "1.000"}),
            "region.width",
            "want 0.001",
        ),
        (_payload_with(time=-1), "time", "POSIX seconds"),
        (_payload_with(type="product/v9"), "type", "want one of"),
        (_payload_with(type=None), "type", "want one of"),
        (_payload_with(manufacturer="acme"), "manufacturer", "name\\+8 lowercase hex"),
    ],
)
def test_malformed_records_name_field_and_reason(payload: bytes, field: str, reason: str) -> None:
    with pytest.raises(RecordFormatError, match=reason) as caught:
        parse_record(payload)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"type": "product/v1"}', "canonical form"),
        (b'{"type":"product/v1","type":"product/v1"}', "duplicate key"),
        (b'{"score":1.5}', "not an integer"),
        (b'{"score":NaN}', "not an integer"),
        (b"\xff", "canonical JSON"),
        (b"[]", "JSON object"),
        (b" " * (MAX_PAYLOAD_SIZE + 1), "want at most 8192"),
    ],
)
def test_non_canonical_or_oversize_json_is_refused(payload: bytes, reason: str) -> None:
    with pytest.raises(RecordFormatError, match=reason):
        parse_record(payload)


def test_key_event_rules() -> None:
    key = generate_key("acme.example/hallmark").verifier
    with pytest.raises(ValueError, match="rotation must name the key it replaces"):
        KeyEvent(action=KeyAction.ROTATE, key=key, previous=None, time=WHEN)
    with pytest.raises(ValueError, match="only a rotation names a previous key"):
        KeyEvent(action=KeyAction.REVOKE, key=key, previous=ACME.key_id, time=WHEN)
    with pytest.raises(ValueError, match="cannot replace itself"):
        KeyEvent(action=KeyAction.ROTATE, key=key, previous=KeyId.of(key), time=WHEN)
    witness = SignerKey.generate("w.example", KeyType.COSIGNATURE_V1).verifier
    with pytest.raises(ValueError, match="has type COSIGNATURE_V1, want ED25519"):
        KeyEvent(action=KeyAction.REGISTER, key=witness, previous=None, time=WHEN)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"time": datetime(2026, 1, 2)}, "timezone-aware"),
        ({"time": WHEN.replace(microsecond=5)}, "whole seconds"),
        ({"time": WHEN.astimezone(timezone(timedelta(hours=2)))}, "in UTC"),
        ({"template_sha256": "00" * 32}, "want 32 bytes"),
        ({"region": Region(x=0.0, y=0.0, width=1.0, height=1.0).x}, "want a Region"),
        ({"scheme": "ORB"}, "characters outside"),
        ({"sku": ""}, "0 characters"),
        ({"sku": "tab\there"}, "control character"),
    ],
)
def test_construction_checks_every_field(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        _product(**changes)


def test_region_precision_is_explicit() -> None:
    Region(x=0.001, y=-3.25, width=0.1, height=1e4)
    with pytest.raises(ValueError, match="x: 0.0005 has more than 3 decimal places"):
        Region(x=0.0005, y=0.0, width=1.0, height=1.0)
    with pytest.raises(ValueError, match="score: 0.12345 has more than 4 decimal places"):
        _event(score=0.12345)


# --- Envelopes --------------------------------------------------------------------------

TRUSTED = [ACME.verifier, DEVICE.verifier]


@pytest.mark.parametrize("record", _records()[::3], ids=lambda r: type(r).__name__)
def test_envelopes_round_trip_and_open(record: Record) -> None:
    signer = DEVICE if isinstance(record, VerificationEvent) else ACME
    envelope = signer.sign(record)
    parsed = SignedEnvelope.parse(envelope.format())
    assert parsed == envelope
    assert parsed.open(TRUSTED) == record


def test_a_rotation_is_signed_by_the_old_key() -> None:
    rotation = _records()[2]
    assert ACME.sign(rotation).open(TRUSTED) == rotation
    with pytest.raises(ValueError, match="must be signed by acme.example/hallmark"):
        generate_key("acme.example/hallmark").sign(rotation)


def test_envelope_signatures_are_enforced() -> None:
    envelope = ACME.sign(_product())
    with pytest.raises(SignatureError, match="not a trusted key"):
        envelope.open([DEVICE.verifier])
    other = dataclasses.replace(envelope, payload=encode_record(_product(serial="SN-0002")))
    with pytest.raises(SignatureError, match="does not verify"):
        other.open(TRUSTED)


def test_a_product_must_be_signed_by_its_own_manufacturer() -> None:
    rogue = generate_key("rogue.example/mfg")
    payload = encode_record(_product())  # names ACME as manufacturer
    forged = SignedEnvelope(
        payload=payload,
        signer=rogue.key_id,
        signature=rogue.key.sign_bytes(b"Hallmark signed record v1\x00" + payload),
    )
    with pytest.raises(SignatureError, match="must be signed by acme.example/hallmark"):
        forged.open([*TRUSTED, rogue.verifier])
    with pytest.raises(ValueError, match="must be signed by"):
        rogue.sign(_product())


def test_record_and_note_signatures_do_not_cross_over() -> None:
    payload = encode_record(_product())
    note_sig = ACME.key.sign(payload.decode() + "\n")
    as_envelope = SignedEnvelope(
        payload=payload + b"\n", signer=ACME.key_id, signature=note_sig.signature
    )
    with pytest.raises(SignatureError, match="does not verify"):
        as_envelope.open(TRUSTED)
    record_sig = ACME.sign(_product()).signature
    note = Note(
        text=payload.decode() + "\n",
        signatures=(dataclasses.replace(note_sig, signature=record_sig),),
    )
    with pytest.raises(SignatureError, match="does not verify"):
        note.verify([ACME.verifier])


def test_signer_keys_round_trip_as_c2sp_text() -> None:
    signer = generate_key("maker.example/line-3")
    assert Signer.from_skey(signer.key.format()) == signer
    assert signer.verifier.format().startswith("maker.example/line-3+")
    assert KeyId.parse(signer.key_id.format()) == signer.key_id
    with pytest.raises(ValueError, match="record keys are ED25519"):
        Signer(key=SignerKey.generate("w.example", KeyType.COSIGNATURE_V1))
    with pytest.raises(RecordFormatError):
        Signer.from_skey("PRIVATE+KEY+x+00000000+AAAA")


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (b'{"payload":"e30=","signature":"AA==","signer":"a+00000000"}', "signature", "1 bytes"),
        (b'{"payload":"e30","signature":"AA==","signer":"a+00000000"}', "payload", "base64"),
        (b'{"payload":"e30=","signer":"a+00000000"}', "signature", "missing field"),
        (b'{"payload":1,"signature":"AA==","signer":"a+00000000"}', "payload", "base64 text"),
    ],
)
def test_malformed_envelopes(data: bytes, field: str, reason: str) -> None:
    with pytest.raises(RecordFormatError, match=reason) as caught:
        SignedEnvelope.parse(data)
    assert caught.value.field == field


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_any_flipped_bit_in_an_envelope_is_rejected(position: int, bit: int) -> None:
    data = bytearray(ACME.sign(_product()).format())
    data[position % len(data)] ^= 1 << bit
    with pytest.raises(RegistryError):
        SignedEnvelope.parse(bytes(data)).open(TRUSTED)


def _general_parse(data: bytes) -> SignedEnvelope:
    """What `SignedEnvelope.parse` would answer without its plain-envelope shortcut."""
    envelope: SignedEnvelope = decode_object(
        SignedEnvelope, load_canonical_json(data, limit=MAX_ENVELOPE_SIZE)
    )
    return envelope


key_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12
).filter(lambda name: not any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name))


@settings(max_examples=300, deadline=None)
@given(
    payload=st.binary(min_size=0, max_size=40),
    signature=st.binary(min_size=63, max_size=65),
    name=key_names,
    key_hash=st.integers(0, 2**32 - 1),
    flip=st.none() | st.tuples(st.integers(min_value=0), st.integers(0, 7)),
)
def test_the_plain_envelope_shortcut_answers_as_the_general_parser(
    payload: bytes, signature: bytes, name: str, key_hash: int, flip: tuple[int, int] | None
) -> None:
    value = {"payload": encode_base64(payload), "signature": encode_base64(signature)}
    data = bytearray(canonical_json({**value, "signer": f"{name}+{key_hash:08x}"}))
    if flip is not None:
        data[flip[0] % len(data)] ^= 1 << flip[1]
    clear_caches()
    assert _outcome(SignedEnvelope.parse, bytes(data)) == _outcome(_general_parse, bytes(data))


def _outcome(
    parse: Callable[[bytes], SignedEnvelope], data: bytes
) -> SignedEnvelope | tuple[str | None, str]:
    try:
        return parse(data)
    except RecordFormatError as exc:
        return exc.field, exc.reason


# --- Round trips for generated records --------------------------------------------------

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
gs1_text = st.text(alphabet=CSET82, min_size=1, max_size=20)
gtins = st.text(alphabet="0123456789", min_size=13, max_size=13).map(
    lambda body: body + gtin_check_digit(body)
)
milli = st.integers(-10_000_000, 10_000_000).map(lambda m: m / 1000)
positive_milli = st.integers(1, 10_000_000).map(lambda m: m / 1000)
times = st.integers(0, 253_402_300_799).map(lambda t: datetime.fromtimestamp(t, UTC))
digests = st.binary(min_size=32, max_size=32)
free_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40
)


@settings(max_examples=100, deadline=None)
@given(
    gtin=gtins,
    serial=gs1_text,
    batch=st.none() | gs1_text,
    sku=st.none() | free_text,
    region=st.builds(Region, x=milli, y=milli, width=positive_milli, height=positive_milli),
    hologram=st.none() | digests,
    digest=digests,
    size=st.integers(1, 2**24),
    when=times,
)
def test_generated_products_round_trip(
    gtin: str,
    serial: str,
    batch: str | None,
    sku: str | None,
    region: Region,
    hologram: bytes | None,
    digest: bytes,
    size: int,
    when: datetime,
) -> None:
    record = _product(
        gtin=gtin,
        serial=serial,
        batch=batch,
        sku=sku,
        region=region,
        hologram_sha256=hologram,
        template_sha256=digest,
        template_size=size,
        time=when,
    )
    assert parse_record(encode_record(record)) == record


@settings(max_examples=100, deadline=None)
@given(
    score=st.integers(-(10**10), 10**10).map(lambda s: s / 10_000),
    place=st.none() | free_text,
    verdict=st.sampled_from(Verdict),
)
def test_generated_verification_events_round_trip(
    score: float, place: str | None, verdict: Verdict
) -> None:
    event = _event(score=score, place=place, verdict=verdict)
    assert parse_record(encode_record(event)) == event


def test_records_name_their_item() -> None:
    record = _product()
    assert record.item == ItemId(gtin=record.gtin, serial=record.serial)
