"""Trust policies (C2SP tlog-policy plus manufacturer keys) and quorum verification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from registry_vectors import load

from registry_client.checkpoint import Checkpoint
from registry_client.errors import CheckpointError, RecordFormatError, SignatureError
from registry_client.merkle import leaf_hash
from registry_client.note import KeyType, Note, SignerKey, VerifierKey
from registry_client.policy import NONE, Group, Log, TrustPolicy, Witness
from registry_client.records import KeyAction, KeyEvent, generate_key

NOTES = {case["id"]: case for case in load("notes/notes.json")["notes"]}

LOG = SignerKey.generate("example.com/log")
WITNESSES = {
    name: SignerKey.generate(f"{name.lower()}.example", KeyType.COSIGNATURE_V1)
    for name in ("X1", "X2", "X3", "Y1", "Y2", "Y3")
}
MAKER = generate_key("maker.example/hallmark")
SCANNER = generate_key("shop.example/scanner-1")
MAKER_LINE = MAKER.verifier.format()


def _policy_text(quorum: str = "X-and-Y") -> str:
    w = {name: key.verifier.format() for name, key in WITNESSES.items()}
    return f"""# The example of tlog-policy §Example policy, with real keys.
log {LOG.verifier.format()} https://log.example.com/

witness X1 {w["X1"]}
witness X2 {w["X2"]}\thttps://x2.example/
  witness X3 {w["X3"]}
group X-witnesses 2 X1 X2 X3

witness Y1 {w["Y1"]}
witness Y2 {w["Y2"]}
witness Y3 {w["Y3"]}
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum {quorum}
manufacturer {MAKER.verifier.format()}
device {SCANNER.verifier.format()}
"""


def _checkpoint_note(*cosigners: str) -> str:
    text = Checkpoint(origin="example.com/log", size=7, root_hash=leaf_hash(b"7")).format()
    note = Note(text=text, signatures=(LOG.sign(text),))
    for name in cosigners:
        note = note.with_signature(WITNESSES[name].sign(text, timestamp=1_750_000_000))
    return note.format()


def test_parse_reads_every_line_type() -> None:
    policy = TrustPolicy.parse(_policy_text())
    assert policy.logs == (Log(key=LOG.verifier, url="https://log.example.com/"),)
    assert [w.name for w in policy.witnesses] == ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
    assert policy.witnesses[1].url == "https://x2.example/"
    assert policy.groups == (
        Group(name="X-witnesses", threshold=2, members=("X1", "X2", "X3")),
        Group(name="Y-witnesses", threshold=1, members=("Y1", "Y2", "Y3")),
        Group(name="X-and-Y", threshold=2, members=("X-witnesses", "Y-witnesses")),
    )
    assert policy.quorum == "X-and-Y"
    assert policy.manufacturers == (MAKER.verifier,)
    assert policy.devices == (SCANNER.verifier,)


def test_format_round_trips() -> None:
    policy = TrustPolicy.parse(_policy_text())
    assert TrustPolicy.parse(policy.format()) == policy
    assert TrustPolicy.parse(policy.format().encode()) == policy


@pytest.mark.parametrize(
    ("cosigners", "ok"),
    [
        (("X1", "X2", "Y1"), True),
        (("X2", "X3", "Y3", "Y2"), True),
        (("X1", "Y1"), False),
        (("X1", "X2", "X3"), False),
        ((), False),
    ],
)
def test_group_quorum(cosigners: tuple[str, ...], ok: bool) -> None:
    policy = TrustPolicy.parse(_policy_text())
    if ok:
        verified = policy.verify_checkpoint(_checkpoint_note(*cosigners))
        assert {k.name for k in verified.witnesses} == {WITNESSES[c].name for c in cosigners}
    else:
        with pytest.raises(CheckpointError, match="quorum 'X-and-Y' not met"):
            policy.verify_checkpoint(_checkpoint_note(*cosigners))


def test_single_witness_and_none_quorums() -> None:
    assert TrustPolicy.parse(_policy_text("Y2")).verify_checkpoint(_checkpoint_note("Y2"))
    with pytest.raises(CheckpointError, match="cosigned by \\['X1'\\]"):
        TrustPolicy.parse(_policy_text("Y2")).verify_checkpoint(_checkpoint_note("X1"))
    assert TrustPolicy.parse(_policy_text(NONE)).verify_checkpoint(_checkpoint_note())


def test_an_unlisted_log_is_refused() -> None:
    stranger = SignerKey.generate("example.com/log")
    text = Checkpoint(origin="example.com/log", size=1, root_hash=leaf_hash(b"")).format()
    note = Note(text=text, signatures=(stranger.sign(text),)).format()
    with pytest.raises(SignatureError, match="no signature by a known key"):
        TrustPolicy.parse(_policy_text(NONE)).verify_checkpoint(note)


def test_real_static_ct_checkpoint_under_a_policy() -> None:
    case = NOTES["arche-log-and-witness"]
    log_vkey, witness_vkey = case["vkeys"]
    policy = TrustPolicy.parse(f"log {log_vkey}\nwitness remora {witness_vkey}\nquorum remora\n")
    verified = policy.verify_checkpoint(case["note"])
    assert verified.checkpoint.size == 1_432_088_532
    with pytest.raises(SignatureError):
        policy.verify_checkpoint(NOTES["arche-size-clobbered"]["note"])


def test_real_rekor_v2_checkpoint_under_a_policy() -> None:
    case = NOTES["rekor-v2-staging-checkpoint"]
    policy = TrustPolicy.parse(f"log {case['vkeys'][0]}\nquorum none\n")
    assert policy.verify_checkpoint(case["note"]).checkpoint.size == 646


def test_a_log_key_must_be_named_for_its_origin() -> None:
    case = NOTES["sumdb-real-checkpoint"]  # origin "go.sum database tree", key sum.golang.org
    policy = TrustPolicy.parse(f"log {case['vkeys'][0]}\nquorum none\n")
    with pytest.raises(CheckpointError, match="want 'sum.golang.org'"):
        policy.verify_checkpoint(case["note"])


W1 = WITNESSES["X1"].verifier.format()
W2 = WITNESSES["X2"].verifier.format()
LOG_LINE = f"log {LOG.verifier.format()}"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (f"witness A {W1}\ngroup G all\nquorum G\n", 2, "no members"),
        (f"witness A {W1}\ngroup G any B\nquorum G\n", 2, "'B' is not a witness or group"),
        (f"group G any A\nwitness A {W1}\nquorum G\n", 1, "defined earlier"),
        ("quorum A\n", 1, "defined earlier"),
        (f"witness none {W1}\nquorum none\n", 1, "reserved"),
        (f"witness A {W1}\nwitness A {W2}\nquorum A\n", 2, "defined twice"),
        (f"witness A {W1}\ngroup A any A\nquorum A\n", 2, "defined twice"),
        (f"witness A {W1}\nwitness B {W1}\nquorum A\n", 2, "listed twice"),
        (f"{LOG_LINE}\n{LOG_LINE}\nquorum none\n", 2, "listed twice"),
        ("quorum none\nquorum none\n", 2, "want exactly one"),
        (f"witness A {W1}\nwitness B {W2}\ngroup G 3 A B\nquorum G\n", 3, "want 1 to 2"),
        (f"witness A {W1}\ngroup G 0 A\nquorum G\n", 2, "want all, any or k"),
        (f"witness A {W1}\ngroup G 01 A\nquorum G\n", 2, "want all, any or k"),
        (f"witness A {W1}\ngroup G any A A\nquorum G\n", 2, "member twice"),
        (f"witness A {LOG.verifier.format()}\nquorum A\n", 1, "want COSIGNATURE_V1"),
        (f"log {W1}\nquorum none\n", 1, "want ED25519"),
        (f"manufacturer {W1}\nquorum none\n", 1, "want ED25519"),
        (f"device {W1}\nquorum none\n", 1, "device key .* want ED25519"),
        (f"device {MAKER_LINE}\nmanufacturer {MAKER_LINE}\nquorum none\n", 2, "listed twice"),
        ("logs x\nquorum none\n", 1, "'logs' with 1 items"),
        (f"{LOG_LINE} https://a/ extra\nquorum none\n", 1, "with 3 items"),
        ("log example.com+00000000+AQAA\nquorum none\n", 1, "key is 2 bytes, want 32"),
        ("quorum none\r\n", 1, "control character"),
    ],
)
def test_policy_errors_name_the_line(text: str, line: int, reason: str) -> None:
    with pytest.raises(RecordFormatError, match=reason) as caught:
        TrustPolicy.parse(text)
    assert caught.value.field == f"line {line}"


def test_policy_needs_a_quorum_line() -> None:
    with pytest.raises(RecordFormatError, match="no quorum line"):
        TrustPolicy.parse(f"{LOG_LINE}\n# quorum none\n")


def test_construction_checks_the_same_rules() -> None:
    witness = Witness(name="A", key=WITNESSES["X1"].verifier)
    with pytest.raises(ValueError, match="no members"):
        Group(name="G", threshold=1, members=())
    with pytest.raises(ValueError, match="'B' is not a witness or group"):
        TrustPolicy(logs=(), witnesses=(witness,), groups=(), quorum="B")
    with pytest.raises(ValueError, match="share the reference|listed twice"):
        TrustPolicy(
            logs=(), witnesses=(), groups=(), quorum=NONE, manufacturers=(MAKER.verifier,) * 2
        )
    with pytest.raises(ValueError, match="url"):
        Log(key=LOG.verifier, url="two words")


def _registration(key: VerifierKey) -> KeyEvent:
    return KeyEvent(
        action=KeyAction.REGISTER, key=key, previous=None, time=datetime(2026, 3, 1, tzinfo=UTC)
    )


def test_manufacturer_keys_open_records() -> None:
    policy = TrustPolicy.parse(_policy_text())
    assert MAKER.sign(_registration(MAKER.verifier)).open(policy.manufacturers) == _registration(
        MAKER.verifier
    )
    stranger = generate_key("other.example/hallmark")
    envelope = stranger.sign(_registration(stranger.verifier))
    with pytest.raises(SignatureError, match="not a trusted key"):
        envelope.open(policy.manufacturers)
