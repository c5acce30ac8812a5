"""Keys, ledgers and signed product records for the registry tests (opaque templates)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.item import ItemId
from registry_client.note import KeyType, SignerKey
from registry_client.policy import TrustPolicy
from registry_client.records import (
    KeyAction,
    KeyEvent,
    ProductRecord,
    Region,
    Revocation,
    SignedEnvelope,
    Signer,
    Verdict,
    VerificationEvent,
    generate_key,
)

GTIN = "09506000134352"
OTHER_GTIN = "09506000134369"
"""A second valid GTIN-14, for the same serial under two products."""
TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LOG_KEY = SignerKey(name="test.registry/log", key_type=KeyType.ED25519, seed=bytes(range(32)))
"""A fixed log key, so two ledgers can share an origin and key (the split-view case)."""


def template(serial: str) -> bytes:
    """Opaque template bytes unique to ``serial`` (the registry never decodes them)."""
    return hashlib.sha512(serial.encode()).digest() * 8


def item(serial: str, gtin: str = GTIN) -> ItemId:
    """The item ``serial`` of ``gtin``."""
    return ItemId(gtin=gtin, serial=serial)


def product(
    signer: Signer,
    serial: str,
    data: bytes | None = None,
    *,
    gtin: str = GTIN,
    hologram: bytes | None = None,
) -> tuple[SignedEnvelope, bytes]:
    """A product record for ``serial`` of ``gtin`` signed by ``signer``, and its template;
    the record names ``hologram``'s SHA-256 when one is given."""
    data = template(gtin + serial) if data is None else data
    record = ProductRecord(
        gtin=gtin,
        serial=serial,
        batch=None,
        sku=None,
        scheme="test-scheme",
        scheme_version=1,
        template_sha256=hashlib.sha256(data).digest(),
        template_size=len(data),
        region=Region(x=26.0, y=0.0, width=22.0, height=22.0),
        hologram_sha256=None if hologram is None else hashlib.sha256(hologram).digest(),
        manufacturer=signer.key_id,
        time=TIME,
    )
    return signer.sign(record), data


def event(device: Signer, serial: str) -> SignedEnvelope:
    """A genuine verdict on ``serial`` signed by ``device``."""
    return device.sign(
        VerificationEvent(
            device=device.key_id,
            gtin=GTIN,
            serial=serial,
            place=None,
            time=TIME,
            verdict=Verdict.GENUINE,
            score=12.5,
            scheme="test-scheme",
            scheme_version=1,
        )
    )


def withdrawal(signer: Signer, serial: str, gtin: str = GTIN) -> SignedEnvelope:
    """``signer``'s revocation of item ``serial`` of ``gtin``."""
    return signer.sign(
        Revocation(gtin=gtin, serial=serial, reason="stolen", manufacturer=signer.key_id, time=TIME)
    )


def key_revocation(signer: Signer) -> SignedEnvelope:
    """``signer`` revoking its own key."""
    event = KeyEvent(action=KeyAction.REVOKE, key=signer.verifier, previous=None, time=TIME)
    return signer.sign(event)


def ledger(path: Path, *trusted: Signer, log_key: SignerKey = LOG_KEY) -> TrustPolicy:
    """A new ledger folder trusting ``trusted``; its policy."""
    return create_ledger(path, log_key, [s.verifier for s in trusted])


def manufacturer(name: str = "acme.example") -> Signer:
    """A fresh manufacturer key."""
    return generate_key(f"{name}/{os.urandom(2).hex()}")


@dataclass
class Served:
    """The app under TestClient, with the registry and folder behind it."""

    client: TestClient
    registry: EmbeddedRegistry
    maker: Signer
    folder: Path
