"""Manufacturer key succession: which key may sign a record logged at a given leaf.

A trust policy names the manufacturer keys a verifier believes; the log's key events
(`records.KeyEvent`) extend and limit that belief by three rules, each failing closed:

- **Succession.** A key the policy does not name is trusted from a rotation to it
  (``rotate``, ``key`` = it, ``previous`` = P, signed by P) onward, if P was trusted,
  not revoked and not retired at the rotation's leaf. Chains of rotations are followed
  up to `MAX_CHAIN` keys.
- **Retirement.** A key that rotated to another signs nothing logged after that
  rotation (`RetiredKeyError`), whether the policy names it or not; what it signed
  before stays valid. A second rotation by a retired key is therefore void.
- **Revocation.** A key that revoked itself signs nothing, whenever it was logged, and
  nor does any key trusted through it (`RevokedKeyError`): a compromise may predate
  the revocation, and a rotation signed by a compromised key proves nothing.

The caller supplies the events indexed under a key (`registry.entry_keys` indexes a
rotation under both of its keys), each already proven in the tree it checks against.
A log proves which events it holds, not which it lacks: one that hides a revocation or
a rotation can keep a key alive, as it can hide an item's withdrawal.

The work is bounded whatever a log holds: a search never goes deeper than `MAX_CHAIN`
keys, and one answer reads at most `MAX_EVENTS_READ` events over all the keys it looks
at; past that the key is refused (`KeyHistoryError`), never followed without end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from typing import TypeAlias

from registry_client.errors import RecordFormatError, RevokedKeyError, SignatureError
from registry_client.note import KeyId, VerifierKey
from registry_client.policy import TrustPolicy
from registry_client.records import KeyAction, KeyEvent, SignedEnvelope, parse_record

__all__ = [
    "MAX_CHAIN",
    "MAX_EVENTS_READ",
    "EventsOf",
    "KeyHistoryError",
    "RetiredKeyError",
    "chain",
    "check_standing",
    "known_keys",
    "signing_key",
]

MAX_CHAIN = 8
"""Most keys in a chain of rotations from a policy key (the policy key included)."""
MAX_EVENTS_READ = 1024
"""Most key events one answer reads, over every key it looks at. An honest history needs
a few dozen (a chain of `MAX_CHAIN` keys, a handful of events each: an honest registry
admits one rotation per key, and only a key itself registers or revokes it); more is a
log burying a key in events, or a web of rotations whose every path would be tried."""

EventsOf: TypeAlias = Callable[[KeyId], Sequence[tuple[int, bytes]]]
"""The ``(leaf index, envelope)`` of each key event indexed under a key, in log order."""


class RetiredKeyError(RevokedKeyError):
    """A record logged at ``leaf`` was signed by a key that rotated to another at
    ``retired_at`` (a leaf index), before it."""

    def __init__(self, key: str, *, leaf: int, retired_at: int) -> None:
        super().__init__(key)
        self.args = (f"key {key} was rotated away at leaf {retired_at}; it signs nothing after",)
        self.leaf = leaf
        self.retired_at = retired_at


class KeyHistoryError(RevokedKeyError):
    """``key``'s history cannot be judged (``reason``): judging it would read more than
    `MAX_EVENTS_READ` key events, or rotations name two different keys by its reference
    (a 32-bit key ID clash). Nothing it signs is trusted."""

    def __init__(self, key: str, *, reason: str) -> None:
        super().__init__(key)
        self.args = (f"key {key}: {reason}",)
        self.reason = reason


def signing_key(
    signer: KeyId, at: int, policy: TrustPolicy, events_of: EventsOf
) -> VerifierKey | None:
    """The key that may sign a record by ``signer`` logged at leaf ``at``.

    ``None`` if neither the policy nor a succession names it (the signature check then
    refuses the record). Raises `RevokedKeyError` if it or a key it was trusted through
    revoked itself, `RetiredKeyError` if it rotated away before ``at``, `KeyHistoryError`
    if judging it would read more than `MAX_EVENTS_READ` key events.
    """
    read = _Reading(events_of)
    keys = _chain(signer, at, policy, read, MAX_CHAIN)
    if not keys:
        return None
    _check_standing(keys[-1], at, read)
    return keys[-1]


def chain(
    signer: KeyId, at: int, policy: TrustPolicy, events_of: EventsOf
) -> tuple[VerifierKey, ...]:
    """The keys trust passes through to reach ``signer`` at leaf ``at``: a policy key
    first, ``signer``'s own last; empty if nothing reaches it in `MAX_CHAIN` keys.

    Each key before the last must have been in good standing when it rotated to the
    next (else `RevokedKeyError`/`RetiredKeyError`); the last key's own standing is not
    checked here (`signing_key` does; a revoked or retired key may still log its
    revocation). `KeyHistoryError` past `MAX_EVENTS_READ` events.
    """
    return _chain(signer, at, policy, _Reading(events_of), MAX_CHAIN)


def known_keys(
    signers: Iterable[KeyId], at: int, policy: TrustPolicy, events_of: EventsOf
) -> list[VerifierKey]:
    """The keys of those ``signers`` that `chain` reaches at leaf ``at`` (standing not
    checked; a signer whose chain is broken is left out): what to check ahead with."""
    keys: list[VerifierKey] = []
    for signer in signers:
        with contextlib.suppress(RevokedKeyError):
            keys.extend(chain(signer, at, policy, events_of)[-1:])
    return keys


def check_standing(key: VerifierKey, at: int, events_of: EventsOf) -> None:
    """Raise unless ``key`` never revoked itself and had not rotated away before ``at``."""
    _check_standing(key, at, _Reading(events_of))


class _Reading:
    """``events_of`` for one answer, counting what it hands out against `MAX_EVENTS_READ`."""

    __slots__ = ("_events_of", "_read")

    def __init__(self, events_of: EventsOf) -> None:
        self._events_of = events_of
        self._read = 0

    def __call__(self, key: KeyId) -> Sequence[tuple[int, bytes]]:
        events = self._events_of(key)
        self._read += len(events)
        if self._read > MAX_EVENTS_READ:
            reason = f"judging it reads {self._read} key events, more than {MAX_EVENTS_READ}"
            raise KeyHistoryError(key.format(), reason=reason)
        return events


def _chain(
    signer: KeyId, at: int, policy: TrustPolicy, read: _Reading, room: int
) -> tuple[VerifierKey, ...]:
    """`chain` in at most ``room`` keys: each rotation followed back leaves one less,
    so the search is at most `MAX_CHAIN` deep, and it reads at most `MAX_EVENTS_READ`."""
    named = [k for k in policy.manufacturers if KeyId.of(k) == signer]
    if named:
        return (named[0],)
    if room < 2:
        return ()
    rotations = [
        (leaf, data, event)
        for leaf, data in read(signer)
        if leaf < at
        and (event := _peek(data)) is not None
        and event.action is KeyAction.ROTATE
        and event.previous is not None
        and KeyId.of(event.key) == signer
    ]
    if len({event.key for _, _, event in rotations}) > 1:
        reason = "rotations name two different keys by this reference"
        raise KeyHistoryError(signer.format(), reason=reason)
    for leaf, data, event in rotations:
        assert event.previous is not None
        before = _chain(event.previous, leaf, policy, read, room - 1)
        if not before or not _signed_by(data, before[-1]):
            continue
        _check_standing(before[-1], leaf, read)
        return (*before, event.key)
    return ()


def _check_standing(key: VerifierKey, at: int, read: _Reading) -> None:
    key_id = KeyId.of(key)
    for leaf, data in read(key_id):
        event = _peek(data)
        if event is None:
            continue
        revoked = event.action is KeyAction.REVOKE and KeyId.of(event.key) == key_id
        retired = event.action is KeyAction.ROTATE and event.previous == key_id and leaf < at
        if not (revoked or retired) or not _signed_by(data, key):
            continue  # the signature is checked only where it would matter
        if revoked:
            raise RevokedKeyError(key_id.format(), revoked_at=event.time)
        raise RetiredKeyError(key_id.format(), leaf=at, retired_at=leaf)


def _peek(data: bytes) -> KeyEvent | None:
    """The key event in an entry, signature unchecked; ``None`` for anything else."""
    try:
        event = parse_record(SignedEnvelope.parse(data).payload)
    except RecordFormatError:
        return None
    return event if isinstance(event, KeyEvent) else None


def _signed_by(data: bytes, key: VerifierKey) -> bool:
    try:
        SignedEnvelope.parse(data).open([key])
    except (RecordFormatError, SignatureError):
        return False
    return True
