"""The GIL-free batch verifier gives PyNaCl's answer for every job."""

from __future__ import annotations

import nacl.exceptions
import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_client._ed25519 import verify_many

KEYS = [nacl.signing.SigningKey(bytes([n]) * 32) for n in range(1, 4)]


def _pynacl(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


@st.composite
def jobs(draw: st.DrawFn) -> tuple[bytes, bytes, bytes]:
    """A signed message, then maybe a flipped bit in it, its signature or its key."""
    signer = draw(st.sampled_from(KEYS))
    message = draw(st.binary(max_size=300))
    parts = [bytes(draw(st.sampled_from(KEYS)).verify_key), message, signer.sign(message).signature]
    if draw(st.booleans()):
        part = draw(st.sampled_from([p for p in (0, 1, 2) if parts[p]]))
        flipped = bytearray(parts[part])
        flipped[draw(st.integers(0, len(flipped) - 1))] ^= 1 << draw(st.integers(0, 7))
        parts[part] = bytes(flipped)
    return parts[0], parts[1], parts[2]


@settings(max_examples=60, deadline=None)
@given(st.lists(jobs(), max_size=40))
def test_answers_as_pynacl(batch: list[tuple[bytes, bytes, bytes]]) -> None:
    assert verify_many(batch) == [_pynacl(*job) for job in batch]


def test_known_answers() -> None:
    key = KEYS[0]
    good = (bytes(key.verify_key), b"record", key.sign(b"record").signature)
    other_message = (good[0], b"recorD", good[2])
    small_order_key = (bytes(32), b"record", bytes(64))  # identity point, zero signature
    assert verify_many([good, other_message, small_order_key, good]) == [True, False, False, True]


def test_wrong_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="32-byte keys"):
        verify_many([(bytes(31), b"", bytes(64))])
    with pytest.raises(ValueError, match="64-byte signatures"):
        verify_many([(bytes(32), b"", bytes(63))])
