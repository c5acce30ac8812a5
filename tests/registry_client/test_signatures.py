"""Signatures checked ahead on the pool: the answers `open` then finds are the right ones."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from registry_client import signatures
from registry_client.errors import SignatureError
from registry_client.records import (
    SIGNATURE_CONTEXT,
    ProductRecord,
    Region,
    SignedEnvelope,
    Signer,
    check_ahead,
    clear_caches,
)

ACME = Signer.from_seed("acme.example/hallmark", bytes(range(32)))
OTHER = Signer.from_seed("other.example/hallmark", bytes(range(1, 33)))


def _envelope(serial: str) -> SignedEnvelope:
    return ACME.sign(
        ProductRecord(
            gtin="04006381333931",
            serial=serial,
            batch=None,
            sku=None,
            scheme="orb-lbp-noise",
            scheme_version=1,
            template_sha256=bytes(32),
            template_size=1,
            region=Region(x=26.0, y=0.0, width=22.0, height=22.0),
            hologram_sha256=None,
            manufacturer=ACME.key_id,
            time=datetime(2026, 1, 2, tzinfo=UTC),
        )
    )


def _forged(envelope: SignedEnvelope) -> SignedEnvelope:
    signature = bytearray(envelope.signature)
    signature[7] ^= 0x10
    return dataclasses.replace(envelope, signature=bytes(signature))


def test_a_forged_signature_in_a_batch_checked_ahead_is_refused() -> None:
    clear_caches()
    batch = [_envelope(f"S{i}") for i in range(5 * signatures.CHUNK)]
    batch[3 * signatures.CHUNK + 5] = _forged(batch[3 * signatures.CHUNK + 5])
    ahead = check_ahead(batch, [ACME.verifier])
    opened = 0
    for n, envelope in enumerate(batch, 1):
        ahead.wait(n)
        if n == 3 * signatures.CHUNK + 6:
            with pytest.raises(SignatureError, match="does not verify"):
                envelope.open([ACME.verifier])
        else:
            envelope.open([ACME.verifier])
            opened += 1
    assert opened == len(batch) - 1


def test_answers_are_remembered_by_the_pool_and_only_for_the_batch_checked() -> None:
    batch = [_envelope(f"R{i}") for i in range(3 * signatures.CHUNK)]
    record = batch[0].open([ACME.verifier])
    unknown_signer = OTHER.sign(dataclasses.replace(record, manufacturer=OTHER.key_id))
    clear_caches()
    ahead = check_ahead([*batch, unknown_signer], [ACME.verifier])
    ahead.wait(len(batch) + 1)
    remembered = signatures._answers  # what the pool left for `open` to find
    key = ACME.verifier.public_key
    assert all(remembered.get((key, SIGNATURE_CONTEXT + e.payload, e.signature)) for e in batch)
    assert len(remembered) == len(batch)  # the envelope with no trusted key was left alone


def test_small_batches_are_not_handed_off() -> None:
    clear_caches()
    ahead = check_ahead([_envelope(f"T{i}") for i in range(signatures.CHUNK)], [ACME.verifier])
    ahead.wait(signatures.CHUNK)
    assert not signatures._answers


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_caches()
    monkeypatch.setattr(signatures, "REMEMBERED", 10)
    for i in range(25):
        signatures.signature_valid(bytes(32), bytes([i]), bytes(64))
    assert len(signatures._answers) == 10
    assert (bytes(32), bytes([24]), bytes(64)) in signatures._answers


def test_without_the_jit_the_caller_checks_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    from numba import config

    monkeypatch.setattr(config, "DISABLE_JIT", True)  # the batch kernel cannot run
    clear_caches()
    batch = [_envelope(f"J{i}") for i in range(3 * signatures.CHUNK)]
    batch[-1] = _forged(batch[-1])
    ahead = check_ahead(batch, [ACME.verifier])
    ahead.wait(len(batch))
    assert not signatures._answers
    for envelope in batch[:-1]:
        envelope.open([ACME.verifier])
    with pytest.raises(SignatureError):
        batch[-1].open([ACME.verifier])


def test_warming_runs_the_batch_kernel_once() -> None:
    clear_caches()
    signatures.warm().join()
    assert list(signatures._answers.values()) == [True]  # the warm-up's own valid job


def test_a_pool_failure_leaves_the_checks_to_the_caller(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(chunk: object) -> None:
        raise RuntimeError("the batch kernel would not compile")

    monkeypatch.setattr(signatures, "_check_chunk", broken)
    clear_caches()
    batch = [_envelope(f"F{i}") for i in range(3 * signatures.CHUNK)]
    batch[0] = _forged(batch[0])
    ahead = check_ahead(batch, [ACME.verifier])
    ahead.wait(len(batch))
    assert "would not compile" in caplog.text
    with pytest.raises(SignatureError):
        batch[0].open([ACME.verifier])
    batch[1].open([ACME.verifier])
