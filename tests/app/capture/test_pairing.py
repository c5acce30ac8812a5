"""``PairingGate``: one token, one phone, expiry and a rate limit, on a fake clock."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from capture_samples import FakeClock

from app.capture.errors import PhoneRequestRefused
from app.capture.pairing import PairingGate


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gate(clock: FakeClock) -> PairingGate:
    return PairingGate(clock=clock, ttl=600, uploads_per_minute=3)


def _refused(status: HTTPStatus) -> pytest.RaisesExc[PhoneRequestRefused]:
    return pytest.raises(PhoneRequestRefused, check=lambda exc: exc.status == status)


def test_the_first_phone_is_paired_and_may_come_back(gate: PairingGate) -> None:
    token = gate.status().token
    session = gate.claim(token, None, device="Phone A")
    assert gate.claim(token, session, device="Phone A") == session
    gate.check(session)
    assert gate.status().device == "Phone A"


def test_a_second_phone_is_refused(gate: PairingGate) -> None:
    token = gate.status().token
    gate.claim(token, None, device="Phone A")
    with _refused(HTTPStatus.FORBIDDEN):
        gate.claim(token, None, device="Phone B")
    with _refused(HTTPStatus.FORBIDDEN):
        gate.claim(token, "a guessed session", device="Phone B")
    with _refused(HTTPStatus.UNAUTHORIZED):
        gate.check("a guessed session")
    with _refused(HTTPStatus.UNAUTHORIZED):
        gate.check(None)


@pytest.mark.parametrize("token", ["wrong", "", "é non-ascii"])
def test_a_wrong_token_is_forbidden(gate: PairingGate, token: str) -> None:
    with _refused(HTTPStatus.FORBIDDEN):
        gate.claim(token, None, device="Phone A")
    assert gate.status().device is None


def test_nobody_is_paired_before_a_claim(gate: PairingGate) -> None:
    with _refused(HTTPStatus.UNAUTHORIZED):
        gate.admit_upload(None)


def test_an_unclaimed_token_expires(gate: PairingGate, clock: FakeClock) -> None:
    token = gate.status().token
    assert gate.status().expires_at == clock.now + 600
    clock.advance(600.5)
    with _refused(HTTPStatus.GONE):
        gate.claim(token, None, device="Phone A")


def test_a_paired_phone_outlives_the_token(gate: PairingGate, clock: FakeClock) -> None:
    token = gate.status().token
    session = gate.claim(token, None, device="Phone A")
    clock.advance(3600)
    assert gate.claim(token, session, device="Phone A") == session
    gate.admit_upload(session)


def test_renewing_forgets_the_phone_and_the_old_token(gate: PairingGate) -> None:
    old = gate.status().token
    session = gate.claim(old, None, device="Phone A")
    new = gate.renew()
    assert new != old and gate.status().device is None
    with _refused(HTTPStatus.UNAUTHORIZED):
        gate.check(session)
    with _refused(HTTPStatus.FORBIDDEN):
        gate.claim(old, session, device="Phone A")
    gate.claim(new, None, device="Phone B")


def test_uploads_are_rate_limited_per_minute(gate: PairingGate, clock: FakeClock) -> None:
    session = gate.claim(gate.status().token, None, device="Phone A")
    for _ in range(3):
        gate.admit_upload(session)
        clock.advance(10)
    with _refused(HTTPStatus.TOO_MANY_REQUESTS) as caught:
        gate.admit_upload(session)
    assert caught.value.retry_after == pytest.approx(30)
    clock.advance(30)
    gate.admit_upload(session)


def test_tokens_are_long_and_fresh(clock: FakeClock) -> None:
    tokens = {PairingGate(clock=clock).status().token for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(token) >= 43 for token in tokens)  # 32 random bytes, base64url


def test_nonsense_limits_are_programming_errors(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="want ttl > 0"):
        PairingGate(clock=clock, ttl=0)
