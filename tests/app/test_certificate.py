"""Verification certificates: issued, written as PDF, checked; every kind of tampering,
forgery and truncation refused with its own error."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QByteArray
from PySide6.QtGui import QPainter, QPdfWriter
from PySide6.QtWidgets import QApplication

from app.cli import main
from app.flows.certificate import (
    ATTACHMENT,
    HEADER,
    CannotCertify,
    Certificate,
    CertificateFormatError,
    CertificateMismatchError,
    issue,
    read_pdf,
    verify_certificate,
    verify_payload,
    vouched,
)
from app.flows.verify import Outcome, Verification, sign_event
from app.ui.certificate_pdf import write_pdf
from fingerprint import Decision, Match
from fingerprint.match import Evidence
from fingerprint.params import MatchParams
from fingerprint.template import SCHEME, VERSION
from registry_client.embedded import EmbeddedRegistry, create_ledger
from registry_client.errors import ProofError, SignatureError, VerificationError
from registry_client.note import Note, SignerKey
from registry_client.policy import TrustPolicy
from registry_client.records import (
    ProductRecord,
    Region,
    Signer,
    VerificationEvent,
    canonical_json,
    generate_key,
    parse_record,
)

GTIN = "09506000134352"
TEMPLATE = b"an opaque fingerprint template" * 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    cert: Certificate
    policy: TrustPolicy
    device: Signer
    maker: Signer
    verification: Verification
    folder: Path


def _record(maker: Signer, serial: str) -> ProductRecord:
    return ProductRecord(
        gtin=GTIN,
        serial=serial,
        batch="B7",
        sku=None,
        scheme=SCHEME,
        scheme_version=VERSION,
        template_sha256=hashlib.sha256(TEMPLATE).digest(),
        template_size=len(TEMPLATE),
        region=Region(x=4.0, y=0.0, width=22.0, height=22.0),
        hologram_sha256=None,
        manufacturer=maker.key_id,
        time=datetime(2026, 11, 25, 6, 0, tzinfo=UTC),
    )


def _match(score: float, decision: Decision) -> Match:
    evidence = Evidence(
        matches=140,
        inliers=96,
        homography=np.eye(3),
        fine=0.412,
        coarse=0.551,
        lbp_distance=0.118,
        overlap=0.97,
        novelty=1.31,
    )
    return Match(score=score, decision=decision, evidence=evidence, issues=())


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    folder = tmp_path_factory.mktemp("certificate")
    maker, device = generate_key("acme"), generate_key("counter-7")
    policy = create_ledger(
        folder / "ledger", SignerKey.generate("test.log"), manufacturers=(maker.verifier,)
    )
    registry = EmbeddedRegistry.open(folder / "ledger", folder / "state", policy)
    try:
        for serial in ("SN0001", "SN0002"):
            registry.register(maker.sign(_record(maker, serial)), TEMPLATE)
        proven = registry.lookup(_record(maker, "SN0001").item)
        checked = Verification(
            serial="SN0001",
            outcome=Outcome.GENUINE,
            match=_match(7.25, Decision.GENUINE),
            proven=proven,
        )
        event = sign_event(checked, device, "Shop 12, Lyon")
        verification = dataclasses.replace(checked, event=event, event_leaf=5)
        cert = issue(verification, device=device)
        yield Issued(
            cert=cert,
            policy=policy,
            device=device,
            maker=maker,
            verification=verification,
            folder=folder,
        )
    finally:
        registry.close()


def _body(payload: bytes) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(Note.parse(payload).text.split("\n")[1])
    return body


def _signed(body: dict[str, Any], device: Signer) -> bytes:
    """A payload with ``body``, properly signed by ``device`` (a dishonest issuer)."""
    text = f"{HEADER}\n{canonical_json(body).decode()}\n"
    return Note(text=text, signatures=(device.key.sign(text),)).format().encode()


def _event_envelope(body: dict[str, Any]) -> VerificationEvent:
    event = parse_record(json_envelope_payload(body["event"]))
    assert isinstance(event, VerificationEvent)
    return event


def json_envelope_payload(b64: str) -> bytes:
    envelope = json.loads(base64.b64decode(b64))
    return base64.b64decode(envelope["payload"])


# -- the payload ------------------------------------------------------------------


def test_issued_certificate_verifies_and_states_the_verification(issued: Issued) -> None:
    cert = verify_payload(issued.cert.payload, issued.policy)
    assert cert == issued.cert
    assert (cert.record.gtin, cert.record.serial) == (GTIN, "SN0001")
    assert cert.outcome is Outcome.GENUINE
    assert cert.event.score == 7.25
    assert cert.event.place == "Shop 12, Lyon"
    assert cert.leaf_index == 0
    assert cert.event_leaf == 5  # where the scan was logged, as the verification says
    assert cert.checkpoint.size == 2  # the record's proof is against the lookup's checkpoint
    assert dict(cert.evidence)["inliers"] == "96"
    fitted = MatchParams()
    assert cert.genuine_at == f"{fitted.genuine_at:.2f}"
    assert cert.counterfeit_below == f"{fitted.counterfeit_below:.2f}"


def test_a_verification_without_a_record_cannot_be_certified(issued: Issued) -> None:
    nothing = Verification(serial="SN0009", outcome=Outcome.NOT_REGISTERED)
    with pytest.raises(CannotCertify, match="SN0009"):
        issue(nothing, device=issued.device)


def test_the_certificate_embeds_the_logged_event_and_no_other(issued: Issued) -> None:
    assert issued.verification.event is not None
    assert issued.cert.event_envelope == issued.verification.event.format()
    unlogged = dataclasses.replace(issued.verification, event=None, event_leaf=None)
    with pytest.raises(CannotCertify, match="not logged by device"):
        issue(unlogged, device=issued.device)
    with pytest.raises(CannotCertify, match="not logged by device"):
        issue(issued.verification, device=generate_key("another-counter"))


def test_evidence_that_is_not_a_number_cannot_be_certified(issued: Issued) -> None:
    match = issued.verification.match
    assert match is not None
    broken = dataclasses.replace(
        match, evidence=dataclasses.replace(match.evidence, novelty=float("nan"))
    )
    verification = dataclasses.replace(issued.verification, match=broken)
    with pytest.raises(CannotCertify, match="novelty is nan"):
        issue(verification, device=issued.device)


def test_changed_body_breaks_the_device_signature(issued: Issued) -> None:
    payload = issued.cert.payload.replace(b'"outcome":"genuine"', b'"outcome":"retake"')
    assert payload != issued.cert.payload
    with pytest.raises(SignatureError, match="does not verify"):
        verify_payload(payload, issued.policy)


def test_certificate_from_an_unlisted_device_is_refused_when_issuers_are_given(
    issued: Issued,
) -> None:
    other = generate_key("counter-8")
    with pytest.raises(SignatureError, match="issued by device counter-7"):
        verify_payload(issued.cert.payload, issued.policy, issuers=(other.verifier,))


def test_policy_that_lists_devices_accepts_only_those(issued: Issued) -> None:
    listed = dataclasses.replace(issued.policy, devices=(issued.device.verifier,))
    cert = verify_payload(issued.cert.payload, listed)
    assert vouched(cert, listed) and not vouched(cert, issued.policy)
    others = dataclasses.replace(issued.policy, devices=(generate_key("counter-9").verifier,))
    with pytest.raises(SignatureError, match="want one of counter-9"):
        verify_payload(issued.cert.payload, others)


def test_forged_issuer_key_with_the_original_event_is_refused(issued: Issued) -> None:
    forger = generate_key("counter-7")  # same name, another key
    body = _body(issued.cert.payload) | {"device_key": forger.verifier.format()}
    with pytest.raises(CertificateMismatchError, match="the event names device"):
        verify_payload(_signed(body, forger), issued.policy)


def test_record_of_an_untrusted_manufacturer_is_refused(issued: Issued) -> None:
    stranger = TrustPolicy(
        logs=issued.policy.logs,
        witnesses=(),
        groups=(),
        quorum="none",
        manufacturers=(generate_key("someone-else").verifier,),
    )
    with pytest.raises(SignatureError, match="not a trusted key"):
        verify_payload(issued.cert.payload, stranger)


def test_checkpoint_of_another_log_is_refused(issued: Issued) -> None:
    other_log = create_ledger(issued.folder / "other-ledger", SignerKey.generate("other.log"))
    policy = dataclasses.replace(issued.policy, logs=other_log.logs)
    with pytest.raises(SignatureError, match="found test.log.*trusted other.log"):
        verify_payload(issued.cert.payload, policy)


def test_bad_inclusion_proof_is_refused_even_when_the_device_signed_it(issued: Issued) -> None:
    body = _body(issued.cert.payload)
    lines = body["proof"].split("\n")
    assert lines[1] == "index 0"
    body["proof"] = "\n".join([lines[0], "index 1", *lines[2:]])  # SN0002's leaf
    with pytest.raises(ProofError):
        verify_payload(_signed(body, issued.device), issued.policy)


def test_event_about_another_item_is_refused(issued: Issued) -> None:
    body = _body(issued.cert.payload)
    event = dataclasses.replace(_event_envelope(body), serial="SN0002")
    body["event"] = base64.b64encode(issued.device.sign(event).format()).decode()
    with pytest.raises(CertificateMismatchError, match="serial SN0002"):
        verify_payload(_signed(body, issued.device), issued.policy)


def test_outcome_other_than_the_signed_verdict_is_refused(issued: Issued) -> None:
    body = _body(issued.cert.payload) | {"outcome": "counterfeit"}
    with pytest.raises(CertificateMismatchError, match="signed verdict genuine"):
        verify_payload(_signed(body, issued.device), issued.policy)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p[: len(p) // 2], "not a signed note"),
        (lambda p: b"", "not a signed note"),
        (lambda p: p.replace(HEADER.encode(), b"hallmark.certificate/v9"), "want 'hallmark"),
        (lambda p: p.replace(b'{"device_key"', b'{ "device_key"'), "canonical"),
        (lambda p: b"x" * 70_000, "want ≤ 65536"),
    ],
    ids=["truncated", "empty", "other-version", "not-canonical", "oversize"],
)
def test_malformed_payloads_are_format_errors(
    issued: Issued, damage: Callable[[bytes], bytes], message: str
) -> None:
    with pytest.raises(CertificateFormatError, match=message):
        verify_payload(damage(issued.cert.payload), issued.policy)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_byte_of_the_payload_is_refused(issued: Issued, data: st.DataObject) -> None:
    payload = issued.cert.payload
    at = data.draw(st.integers(0, len(payload) - 1), label="at")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != payload[at]), label="value")
    changed = payload[:at] + bytes([value]) + payload[at + 1 :]
    with pytest.raises((CertificateFormatError, VerificationError)):
        verify_payload(changed, issued.policy)


def test_body_with_a_missing_field_is_a_format_error(issued: Issued) -> None:
    body = _body(issued.cert.payload)
    del body["thresholds"]
    with pytest.raises(CertificateFormatError, match="want \\['device_key'"):
        verify_payload(_signed(body, issued.device), issued.policy)


# -- the PDF ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf(issued: Issued, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    _app = QApplication.instance() or QApplication([])
    path = tmp_path_factory.mktemp("pdf") / "certificate.pdf"
    write_pdf(issued.cert, path)
    return path.read_bytes()


def test_pdf_round_trip(issued: Issued, pdf: bytes) -> None:
    payload, text = read_pdf(pdf)
    assert payload == issued.cert.payload
    assert "VERDICT: GENUINE" in " ".join(text.split())
    assert verify_certificate(pdf, issued.policy) == issued.cert


def test_truncated_pdf_is_refused(issued: Issued, pdf: bytes) -> None:
    with pytest.raises(CertificateFormatError, match="truncated PDF"):
        verify_certificate(pdf[: len(pdf) - 200], issued.policy)


def test_not_a_pdf_is_refused(issued: Issued) -> None:
    with pytest.raises(CertificateFormatError, match="not a PDF"):
        verify_certificate(issued.cert.payload, issued.policy)


def test_damaged_attachment_stream_is_refused(issued: Issued, pdf: bytes) -> None:
    number = re.search(rb"/EF <</F (\d+) 0 R>>", pdf)
    assert number is not None
    at = pdf.index(b"\n" + number.group(1) + b" 0 obj")
    start = pdf.index(b"stream", at) + len(b"stream\n")
    damaged = pdf[: start + 10] + bytes([pdf[start + 10] ^ 0xFF]) + pdf[start + 11 :]
    with pytest.raises((CertificateFormatError, SignatureError)):
        verify_certificate(damaged, issued.policy)


def test_page_of_another_certificate_is_refused(issued: Issued, tmp_path: Path) -> None:
    """The signed payload of one verification glued under the page of another."""
    _app = QApplication.instance() or QApplication([])
    retake = dataclasses.replace(
        issued.verification, outcome=Outcome.RETAKE, match=_match(1.5, Decision.RETAKE)
    )
    retake = dataclasses.replace(retake, event=sign_event(retake, issued.device, None))
    other = issue(retake, device=issued.device)
    glued = dataclasses.replace(other, payload=issued.cert.payload)
    write_pdf(glued, tmp_path / "glued.pdf")
    with pytest.raises(CertificateMismatchError) as caught:
        verify_certificate((tmp_path / "glued.pdf").read_bytes(), issued.policy)
    assert caught.value.claim == "VERDICT: GENUINE"


def test_pdf_without_a_payload_is_refused(issued: Issued, tmp_path: Path) -> None:
    _app = QApplication.instance() or QApplication([])
    path = tmp_path / "plain.pdf"
    writer = QPdfWriter(str(path))
    QPainter(writer).end()
    with pytest.raises(CertificateFormatError, match=f"0 payloads named {ATTACHMENT}"):
        verify_certificate(path.read_bytes(), issued.policy)
    writer = QPdfWriter(str(path))
    writer.addFileAttachment(ATTACHMENT, QByteArray(issued.cert.payload), "text/plain")
    writer.addFileAttachment("extra.txt", QByteArray(b"hello"), "text/plain")
    QPainter(writer).end()
    with pytest.raises(CertificateFormatError, match="unexpected attachments \\['extra.txt'\\]"):
        verify_certificate(path.read_bytes(), issued.policy)


# -- the command ------------------------------------------------------------------


def test_cli_checks_a_certificate(
    issued: Issued, pdf: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "policy").write_text(issued.policy.format(), encoding="utf-8")
    (tmp_path / "good.pdf").write_bytes(pdf)
    (tmp_path / "cut.pdf").write_bytes(pdf[:-300])
    device = tmp_path / "device.vkey"
    device.write_text(issued.device.verifier.format() + "\n", encoding="utf-8")
    args = ["--policy", str(tmp_path / "policy")]
    assert main(["verify-certificate", str(tmp_path / "good.pdf"), *args]) == 0
    out = capsys.readouterr().out
    assert f"OK: GENUINE — GTIN {GTIN} serial SN0001" in out
    assert "(not listed in the policy)" in out
    assert issued.cert.digest in out
    assert (
        main(["verify-certificate", str(tmp_path / "good.pdf"), *args, "--device-key", str(device)])
        == 0
    )
    capsys.readouterr()
    assert main(["verify-certificate", str(tmp_path / "cut.pdf"), *args]) == 2
    assert "truncated PDF" in capsys.readouterr().err
    stranger = TrustPolicy(
        logs=issued.policy.logs,
        witnesses=(),
        groups=(),
        quorum="none",
        manufacturers=(generate_key("someone-else").verifier,),
    )
    (tmp_path / "stranger").write_text(stranger.format(), encoding="utf-8")
    cmd = ["verify-certificate", str(tmp_path / "good.pdf"), "--policy", str(tmp_path / "stranger")]
    assert main(cmd) == 6
    assert "verification failed" in capsys.readouterr().err
