"""Signed notes, keys and cosignatures against ``shared/vectors/notes/notes.json``.

Strings there come from golang/mod ``sumdb/note``, C2SP ``signed-note.md``,
transparency-dev/formats, florolf/tlog-scales and a Rekor v2 checkpoint (see the
vectors README for licences).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from registry_vectors import load

from registry_client.errors import RecordFormatError, SignatureError
from registry_client.note import (
    MAX_SIGNATURES,
    KeyType,
    Note,
    Signature,
    SignerKey,
    VerifierKey,
    check_key_name,
    decode_base64,
)

NOTES = load("notes/notes.json")
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"


def _note_cases() -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in NOTES["notes"]]


@pytest.mark.parametrize("case", _note_cases())
def test_note_vectors(case: dict[str, Any]) -> None:
    note = Note.parse(case["note"])
    assert note.format() == case["note"]
    keys = [VerifierKey.parse(v) for v in case["vkeys"]]
    if not case["expect_verified"]:
        with pytest.raises(SignatureError):
            note.verify(keys)
        return
    assert [v.key.name for v in note.verify(keys)] == case["expect_verified"]


def test_vector_counts() -> None:
    assert len(NOTES["notes"]) == 11
    assert len(NOTES["signing"]) == 1
    assert len(NOTES["bad_vkeys"]) == 2


@pytest.mark.parametrize("case", NOTES["signing"], ids=lambda c: c["id"])
def test_signing_is_byte_exact(case: dict[str, str]) -> None:
    signer = SignerKey.parse(case["skey"])
    note = Note(text=case["text"], signatures=(signer.sign(case["text"]),))
    assert note.format() == case["want"]
    assert signer.format() == case["skey"]
    assert signer.verifier.format() == PETER_VKEY


@pytest.mark.parametrize("vkey", NOTES["bad_vkeys"])
def test_bad_vkeys_are_refused(vkey: str) -> None:
    with pytest.raises(RecordFormatError):
        VerifierKey.parse(vkey)


def test_vkeys_round_trip_with_their_key_ids() -> None:
    for case in NOTES["notes"]:
        for text in case["vkeys"]:
            key = VerifierKey.parse(text)
            assert key.format() == text
            assert text.split("+")[1] == f"{key.key_id:08x}"
    peter = VerifierKey.parse(PETER_VKEY)
    assert (peter.name, peter.key_type, peter.key_id) == (
        "PeterNeumann",
        KeyType.ED25519,
        0xC74F20A3,
    )


def test_witness_cosignature_carries_its_time() -> None:
    case = next(c for c in NOTES["notes"] if c["id"] == "arche-witness-cosig-v1")
    (verified,) = Note.parse(case["note"]).verify([VerifierKey.parse(case["vkeys"][0])])
    assert verified.key.key_type is KeyType.COSIGNATURE_V1
    assert verified.timestamp == int.from_bytes(decode_base64("AAAAAGoSISA="), "big")


@pytest.mark.parametrize(
    ("vkey", "reason"),
    [
        ("PeterNeumann+c74f20a3", "want name"),
        ("Peter+Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "hex"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "want c74f20a3"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10", "base64"),
        (
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy",
            "key is 29 bytes, want 32",
        ),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "spaces"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "empty"),
    ],
)
def test_vkey_errors_give_a_reason(vkey: str, reason: str) -> None:
    with pytest.raises(RecordFormatError, match=reason):
        VerifierKey.parse(vkey)


def test_skey_hash_must_match_the_derived_key() -> None:
    skey = NOTES["signing"][0]["skey"]
    with pytest.raises(RecordFormatError, match="want c74f20a3"):
        SignerKey.parse(skey.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(RecordFormatError, match="PRIVATE"):
        SignerKey.parse(skey.removeprefix("PRIVATE+KEY+"))
    assert "seed" not in repr(SignerKey.parse(skey))


MESSAGE = "If you think cryptography is the answer to your problem,\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (MESSAGE + "— PeterNeumann x08go/ZJ\n", "no blank line"),
        (MESSAGE + "\n", "must end with a newline"),
        (MESSAGE + "\n— PeterNeumann x08go/ZJkuBS9UG/", "must end with a newline"),
        (MESSAGE + "\n- PeterNeumann x08go/ZJ\n", "must start with '— '"),
        (MESSAGE + "\n— PeterNeumann AAAAAA==\n", "want a 4-byte key ID"),
        (MESSAGE + "\n— PeterNeumann x08go/ZJ!\n", "not base64"),
        (MESSAGE + "\n— PeterNeumann x08go/ZJAB==\n", "non-canonical"),
        (MESSAGE + "\n— Peter+Neumann x08go/ZJkuBS9UG/\n", "'\\+'"),
        (MESSAGE + "\n— x08go/ZJkuBS9UG/\n", "0 bytes"),
        ("tab\there\n\n— PeterNeumann x08go/ZJkuBS9UG/\n", "control character"),
        (b"\xff\n\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/\n", "utf-8"),
    ],
)
def test_malformed_notes_are_refused(text: str | bytes, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        Note.parse(text)


def test_signature_count_is_limited() -> None:
    line = "— PeterNeumann x08go/ZJkuBS9UG/\n"
    Note.parse(MESSAGE + "\n" + line * MAX_SIGNATURES)
    with pytest.raises(SignatureError, match=f"want at most {MAX_SIGNATURES}"):
        Note.parse(MESSAGE + "\n" + line * (MAX_SIGNATURES + 1))


def test_note_text_may_hold_blank_lines() -> None:
    signer = SignerKey.generate("example.com/log")
    text = "a\n\nb\n\n"
    note = Note(text=text, signatures=(signer.sign(text),))
    parsed = Note.parse(note.format())
    assert parsed == note
    assert parsed.verify([signer.verifier])[0].key == signer.verifier


def test_unknown_keys_are_ignored_even_sharing_a_name_or_id() -> None:
    signer = SignerKey.generate("example.com/log")
    impostor = SignerKey.generate("example.com/log")
    text = "hello\n"
    note = Note(text=text, signatures=(impostor.sign(text), signer.sign(text)))
    assert [v.key for v in note.verify([signer.verifier])] == [signer.verifier]
    renamed = Signature(name="example.com/other", key_id=signer.verifier.key_id, signature=b"x")
    assert note.with_signature(renamed).verify([signer.verifier])[0].key == signer.verifier


def test_a_bad_signature_by_a_known_key_rejects_the_note() -> None:
    signer, other = SignerKey.generate("a.example"), SignerKey.generate("b.example")
    good = signer.sign("hello\n")
    forged = Signature(
        name=good.name, key_id=good.key_id, signature=other.sign("hello\n").signature
    )
    note = Note(text="hello\n", signatures=(other.sign("hello\n"), forged))
    with pytest.raises(SignatureError, match="does not verify") as caught:
        note.verify([signer.verifier, other.verifier])
    assert caught.value.key == signer.verifier.reference


def test_ambiguous_trust_configuration_is_refused() -> None:
    # Two public keys whose key IDs under the name "a.example" collide (found by search).
    one, two = (
        VerifierKey(name="a.example", key_type=KeyType.ED25519, public_key=i.to_bytes(32, "big"))
        for i in (38170, 78965)
    )
    assert one.key_id == two.key_id == 0x82D8CE72
    note = Note(text="x\n", signatures=(Signature(name="a.example", key_id=1, signature=b"s"),))
    with pytest.raises(ValueError, match="share the name and ID a.example\\+82d8ce72"):
        note.verify([one, two])
    with pytest.raises(SignatureError, match="no signature by a known key"):
        note.verify([one, one])


def test_cosigning_replaces_an_earlier_cosignature_by_the_same_witness() -> None:
    log = SignerKey.generate("example.com/log")
    witness = SignerKey.generate("example.com/witness", KeyType.COSIGNATURE_V1)
    text = "example.com/log\n1\n" + "A" * 43 + "=\n"
    note = Note(text=text, signatures=(log.sign(text),))
    note = note.with_signature(witness.sign(text, timestamp=100))
    note = note.with_signature(witness.sign(text, timestamp=200))
    assert len(note.signatures) == 2
    verified = Note.parse(note.format()).verify([log.verifier, witness.verifier])
    assert [(v.key, v.timestamp) for v in verified] == [
        (log.verifier, None),
        (witness.verifier, 200),
    ]


def test_cosignature_commits_to_its_time() -> None:
    witness = SignerKey.generate("w.example", KeyType.COSIGNATURE_V1)
    sig = witness.sign("body\n", timestamp=5)
    moved = Signature(
        name=sig.name, key_id=sig.key_id, signature=(6).to_bytes(8, "big") + sig.signature[8:]
    )
    with pytest.raises(SignatureError):
        Note(text="body\n", signatures=(moved,)).verify([witness.verifier])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: SignerKey.generate("w", KeyType.COSIGNATURE_V1).sign("x\n"), "want 0 ≤ t"),
        (lambda: SignerKey.generate("l").sign("x\n", timestamp=1), "takes no timestamp"),
        (lambda: SignerKey.generate("l").sign("x"), "newline"),
        (lambda: SignerKey(name="l", key_type=KeyType.ED25519, seed=b"s"), "1 bytes, want 32"),
        (lambda: Note(text="x\n", signatures=()), "0 signatures, want 1"),
        (lambda: check_key_name("a b"), "spaces"),
    ],
)
def test_construction_preconditions(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


name_st = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), blacklist_characters="+\x85"
    ),
    min_size=1,
    max_size=20,
)
text_st = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), whitelist_characters="\n"),
    max_size=60,
).map(lambda t: t + "\n")


@settings(max_examples=100, deadline=None)
@given(name=name_st, text=text_st, seed=st.binary(min_size=32, max_size=32))
def test_notes_round_trip_and_any_flipped_bit_is_rejected(
    name: str, text: str, seed: bytes
) -> None:
    signer = SignerKey(name=name, key_type=KeyType.ED25519, seed=seed)
    vkey = VerifierKey.parse(signer.verifier.format())
    assert vkey == signer.verifier
    assert SignerKey.parse(signer.format()) == signer
    note = Note(text=text, signatures=(signer.sign(text),))
    parsed = Note.parse(note.format().encode())
    assert parsed == note
    assert parsed.verify([vkey])[0].key == vkey
    raw = bytearray(note.signatures[0].signature)
    raw[len(raw) // 2] ^= 1
    tampered = Signature(name=name, key_id=vkey.key_id, signature=bytes(raw))
    with pytest.raises(SignatureError):
        Note(text=text, signatures=(tampered,)).verify([vkey])
