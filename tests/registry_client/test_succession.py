"""Key succession: rotations hand trust on, retire the old key, and revocations fail closed.

The pure rules (`succession`) over hand-made event lists, then end to end: a registry
that admits by them, verified lookups, withdrawals by a successor, and an offline bundle.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from registry_client.bundle import (
    BundleRegistry,
    Outbox,
    Selection,
    SelectionKind,
    export_bundle,
    open_bundle,
)
from registry_client.embedded import EmbeddedRegistry
from registry_client.errors import RevokedKeyError, SignatureError
from registry_client.ledger import NewEntry
from registry_client.note import KeyId, VerifierKey
from registry_client.policy import TrustPolicy
from registry_client.records import KeyAction, KeyEvent, SignedEnvelope, Signer, parse_record
from registry_client.registry import KEY, entry_keys
from registry_client.succession import (
    MAX_CHAIN,
    MAX_EVENTS_READ,
    EventsOf,
    KeyHistoryError,
    RetiredKeyError,
    chain,
    signing_key,
)

sys.path.insert(0, str(Path(__file__).parents[1] / "registry_server"))
from registry_samples import item, key_revocation, ledger, manufacturer, product, withdrawal

TIME = datetime(2026, 1, 2, tzinfo=UTC)
A, B, C, X = (Signer.from_seed(n, bytes([i]) * 32) for i, n in enumerate("abcx", 1))
POLICY = TrustPolicy.parse(f"quorum none\nmanufacturer {A.verifier.format()}\n")


def rotation(old: Signer, new: Signer) -> SignedEnvelope:
    event = KeyEvent(action=KeyAction.ROTATE, key=new.verifier, previous=old.key_id, time=TIME)
    return old.sign(event)


def events(*logged: tuple[int, SignedEnvelope]) -> EventsOf:
    """The events of ``logged`` (leaf, envelope) under a key, indexed as a ledger does."""

    def events_of(key: KeyId) -> Sequence[tuple[int, bytes]]:
        wanted = (KEY, key.format())
        return [
            (leaf, envelope.format())
            for leaf, envelope in logged
            if wanted in entry_keys(parse_record(envelope.payload))
        ]

    return events_of


# --- The rules -------------------------------------------------------------------------


def test_a_rotation_hands_trust_on_from_its_leaf() -> None:
    log = events((5, rotation(A, B)))
    assert signing_key(B.key_id, 6, POLICY, log) == B.verifier
    assert signing_key(B.key_id, 5, POLICY, log) is None  # not before the rotation
    assert signing_key(A.key_id, 5, POLICY, log) == A.verifier  # A signed up to it


def test_the_old_key_is_retired_after_the_rotation() -> None:
    log = events((5, rotation(A, B)))
    with pytest.raises(RetiredKeyError, match="rotated away at leaf 5") as caught:
        signing_key(A.key_id, 6, POLICY, log)
    assert (caught.value.leaf, caught.value.retired_at) == (6, 5)


def test_chains_are_followed_and_bounded() -> None:
    log = events((1, rotation(A, B)), (2, rotation(B, C)))
    keys = chain(C.key_id, 3, POLICY, log)
    assert keys == (A.verifier, B.verifier, C.verifier)
    signers = [manufacturer(f"k{i}") for i in range(MAX_CHAIN + 1)]
    long_policy = TrustPolicy.parse(f"quorum none\nmanufacturer {signers[0].verifier.format()}\n")
    long_log = events(*((i, rotation(old, new)) for i, (old, new) in enumerate(pairwise(signers))))
    assert len(chain(signers[MAX_CHAIN - 1].key_id, 99, long_policy, long_log)) == MAX_CHAIN
    assert chain(signers[MAX_CHAIN].key_id, 99, long_policy, long_log) == ()


def test_a_retired_key_cannot_rotate_again() -> None:
    log = events((1, rotation(A, B)), (2, rotation(A, C)))
    with pytest.raises(RetiredKeyError):
        signing_key(C.key_id, 3, POLICY, log)


def test_a_revoked_key_takes_its_successors_with_it() -> None:
    log = events((1, rotation(A, B)), (7, key_revocation(A)))
    with pytest.raises(RevokedKeyError, match=re.escape(A.key_id.format())):
        signing_key(B.key_id, 2, POLICY, log)
    with pytest.raises(RevokedKeyError):
        signing_key(B.key_id, 3, POLICY, events((1, rotation(A, B)), (2, key_revocation(B))))


def test_a_rotation_not_signed_by_a_trusted_key_hands_nothing_on() -> None:
    forged = rotation(X, B)  # X is nobody in the policy
    assert signing_key(B.key_id, 9, POLICY, events((1, forged))) is None
    stolen = SignedEnvelope(payload=forged.payload, signer=A.key_id, signature=forged.signature)
    assert signing_key(B.key_id, 9, POLICY, events((1, stolen))) is None


# --- End to end ------------------------------------------------------------------------


@pytest.fixture
def logged(tmp_path: Path) -> tuple[EmbeddedRegistry, Signer]:
    """A registry trusting one manufacturer key, and that key."""
    maker = manufacturer()
    ledger(tmp_path / "ledger", maker)
    return EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state"), maker


def test_records_by_a_successor_verify_and_the_old_key_registers_nothing_more(
    logged: tuple[EmbeddedRegistry, Signer],
) -> None:
    registry, old = logged
    new = manufacturer("next")
    registry.register(*product(old, "BEFORE"))
    registry.append_event(rotation(old, new))
    registry.register(*product(new, "AFTER"))
    after, before = registry.lookup(item("AFTER")), registry.lookup(item("BEFORE"))
    assert (after.manufacturer, after.trusted_through) == (new.key_id, (old.key_id,))
    assert (before.manufacturer, before.trusted_through) == (old.key_id, ())
    with pytest.raises(RetiredKeyError):
        registry.register(*product(old, "LATE"))

    # A log that took the retired key's record anyway: verifiers refuse it.
    envelope, template = product(old, "LATE")
    record = envelope.open([old.verifier])
    registry.append([NewEntry(data=envelope.format(), keys=entry_keys(record), blobs=[template])])
    with pytest.raises(RetiredKeyError):
        registry.lookup(item("LATE"))

    # The successor may withdraw what the old key registered; the old key may still revoke itself.
    registry.append_event(withdrawal(new, "BEFORE"))
    assert registry.lookup(item("BEFORE")).withdrawn
    registry.append_event(key_revocation(old))
    with pytest.raises(RevokedKeyError):
        registry.lookup(item("AFTER"))  # trust through a compromised key fails closed


def test_a_successor_needs_a_logged_rotation(logged: tuple[EmbeddedRegistry, Signer]) -> None:
    registry, _ = logged
    with pytest.raises(SignatureError, match="not a trusted key"):
        registry.register(*product(manufacturer("stranger"), "S1"))
    with pytest.raises(SignatureError):
        registry.append_event(rotation(manufacturer("stranger"), manufacturer("next")))


def test_a_bundle_carries_the_rotation_its_records_rest_on(
    logged: tuple[EmbeddedRegistry, Signer], tmp_path: Path
) -> None:
    registry, old = logged
    new = manufacturer("next")
    registry.register(*product(old, "B1"))
    registry.append_event(rotation(old, new))
    registry.register(*product(new, "B2"))
    selection = Selection(kind=SelectionKind.ITEMS, values=(item("B2").format(),))

    def export(out: Path) -> Path:
        options = {"policy": registry.policy, "signer": old.key, "expires": timedelta(days=30)}
        export_bundle(registry.ledger, out, selection, **options)  # type: ignore[arg-type]
        return out

    bundle_file = export(tmp_path / "b.hmb")
    bundle = BundleRegistry(open_bundle(bundle_file, registry.policy), Outbox(tmp_path / "out"))
    assert bundle.lookup(item("B2")).manufacturer == new.key_id

    registry.append_event(key_revocation(old))  # logged under the old key only
    with pytest.raises(RevokedKeyError):  # found by following the rotation back
        export(tmp_path / "later.hmb")


# --- Bounded work against a hostile log ------------------------------------------------


class Counted:
    """An `EventsOf` over a prebuilt index that counts the events it hands out and
    stops a search that reads far past the module's bound (instead of running for hours)."""

    def __init__(self, logged: Sequence[tuple[int, SignedEnvelope]]) -> None:
        self.index: dict[KeyId, list[tuple[int, bytes]]] = {}
        for leaf, envelope in logged:
            for _, key in entry_keys(parse_record(envelope.payload)):
                self.index.setdefault(KeyId.parse(key), []).append((leaf, envelope.format()))
        self.read = 0

    def __call__(self, key: KeyId) -> Sequence[tuple[int, bytes]]:
        found = self.index.get(key, [])
        self.read += len(found)
        assert self.read <= 10 * MAX_EVENTS_READ, "the search reads without bound"
        return found


def test_a_chain_longer_than_the_limit_is_cut_off_not_recursed_to_its_end() -> None:
    # 1,500 rotations from the policy key: deeper than Python's recursion limit.
    keys = [A, *(Signer.from_seed(f"k{i}", i.to_bytes(32, "big")) for i in range(1, 1_500))]
    log = Counted([(i, rotation(old, new)) for i, (old, new) in enumerate(pairwise(keys))])
    assert chain(keys[-1].key_id, len(keys), POLICY, log) == ()
    assert log.read <= 2 * MAX_CHAIN  # each key on the way holds two rotations


def test_a_web_of_rotations_is_not_searched_path_by_path() -> None:
    # 24 layers of 2 keys, each rotated to from both keys of the layer before: 2^24
    # paths to the last layer, none from a trusted key.
    layers = [
        [Signer.from_seed(f"w{n}x{j}", bytes([n, j]) * 16) for j in (0, 1)] for n in range(24)
    ]
    logged = [
        (n * 4 + 2 * a + b, rotation(old, new))
        for n, (olds, news) in enumerate(pairwise(layers))
        for a, old in enumerate(olds)
        for b, new in enumerate(news)
    ]
    log = Counted(logged)
    with contextlib.suppress(KeyHistoryError):  # refusing is as good as finding nothing
        assert chain(layers[-1][0].key_id, len(logged), POLICY, log) == ()
    assert log.read <= MAX_EVENTS_READ + 4  # the read that crossed the bound, at most


def test_a_key_buried_in_events_fails_closed_without_reading_them_all() -> None:
    junk = [(i, rotation(X, C)) for i in range(MAX_EVENTS_READ + 1)]  # all indexed under C
    log = Counted(junk)
    with pytest.raises(KeyHistoryError, match=re.escape(C.key_id.format())):
        signing_key(
            C.key_id,
            len(junk),
            TrustPolicy.parse(f"quorum none\nmanufacturer {C.verifier.format()}\n"),
            log,
        )


def test_another_key_rotating_to_a_policy_key_does_not_break_its_bundles(tmp_path: Path) -> None:
    # T, trusted too, rotates to the maker's own key and then revokes itself: none of it
    # touches the maker's trust, so the maker's bundle carries none of T's history.
    maker, other = manufacturer(), manufacturer("other")
    ledger(tmp_path / "ledger", maker, other)
    registry = EmbeddedRegistry.open(tmp_path / "ledger", tmp_path / "state")
    registry.register(*product(maker, "M1"))
    registry.append_event(rotation(other, maker))
    registry.append_event(key_revocation(other))
    selection = Selection(kind=SelectionKind.ITEMS, values=(item("M1").format(),))
    options = {"policy": registry.policy, "signer": maker.key, "expires": timedelta(days=1)}
    export_bundle(registry.ledger, tmp_path / "m.hmb", selection, **options)  # type: ignore[arg-type]
    bundle = BundleRegistry(
        open_bundle(tmp_path / "m.hmb", registry.policy), Outbox(tmp_path / "o")
    )
    assert bundle.lookup(item("M1")).manufacturer == maker.key_id


def test_a_bundle_carries_the_rotations_a_withdrawal_rests_on(
    logged: tuple[EmbeddedRegistry, Signer], tmp_path: Path
) -> None:
    registry, old = logged
    middle, new = manufacturer("middle"), manufacturer("next")
    registry.register(*product(old, "W1"))
    registry.append_event(rotation(old, middle))
    registry.append_event(rotation(middle, new))
    registry.append_event(withdrawal(new, "W1"))  # by the successor's successor
    assert registry.lookup(item("W1")).withdrawn
    selection = Selection(kind=SelectionKind.ITEMS, values=(item("W1").format(),))
    options = {"policy": registry.policy, "signer": old.key, "expires": timedelta(days=1)}
    export_bundle(registry.ledger, tmp_path / "w.hmb", selection, **options)  # type: ignore[arg-type]
    bundle = BundleRegistry(
        open_bundle(tmp_path / "w.hmb", registry.policy), Outbox(tmp_path / "o")
    )
    assert bundle.lookup(item("W1")).withdrawn


def test_two_keys_rotated_to_under_one_reference_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 32-bit key ID clash: which key a record by that reference means is undecidable."""
    twin = Signer.from_seed("b", bytes([9]) * 32)
    real_of = KeyId.of

    def clashing(cls: type[KeyId], key: VerifierKey) -> KeyId:
        return real_of(B.verifier if key == twin.verifier else key)

    monkeypatch.setattr(KeyId, "of", classmethod(clashing))
    log = events((1, rotation(A, B)), (2, rotation(A, twin)))
    with pytest.raises(KeyHistoryError, match="two different keys"):
        signing_key(B.key_id, 3, POLICY, log)
