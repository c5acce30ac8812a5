"""Verification certificates: a signed statement, checkable by anyone, that an item was verified.

The payload is a C2SP signed note by the verifying device's key::

    hallmark.certificate/v1
    {"device_key":…,"event":…,"evidence":{…},"outcome":…,"proof":…,"record":…,…}

    — device-name base64(key ID ‖ Ed25519 signature)

The body (canonical JSON, RFC 8785 style) holds the device-signed `VerificationEvent`
envelope and the device's vkey, the manufacturer-signed `ProductRecord` envelope, the
record's ``c2sp.org/tlog-proof@v1`` text (leaf index, inclusion proof and the checkpoint
note), the outcome and its reason, the thresholds and the match evidence.

`verify_payload` fails closed, in this order: note and body well formed
(`CertificateFormatError`); the issuing device accepted (one of the issuers given, else
of the policy's ``device`` keys if it lists any) and the note signed by it
(`SignatureError`); event, record and outcome about one item and one verdict, the event
naming that device (`CertificateMismatchError`); the event signed by the device
(`SignatureError`); the checkpoint signed to the policy's quorum and the record included
in it (`SignatureError`, `CheckpointError`, `ProofError`); the record signed by a
manufacturer the policy trusts (`SignatureError`).
A certificate says what was true when it was issued: a later revocation of the item or
key is the registry's to tell.

The PDF (drawn by ``app/ui/certificate_pdf.py``) carries the payload as an embedded file;
`read_pdf` takes it back out with pypdf, and `verify_certificate` also requires the
page to state the verdict, item and payload digest the payload does (`page_claims`).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from app.flows.verify import Outcome, Verification
from registry_client.checkpoint import Checkpoint
from registry_client.errors import RecordFormatError, SignatureError, VerificationError
from registry_client.note import Note, VerifierKey, decode_base64, encode_base64
from registry_client.policy import TrustPolicy
from registry_client.proof_text import format_proof, parse_proof, verify_proof
from registry_client.records import (
    KeyId,
    ProductRecord,
    SignedEnvelope,
    Signer,
    VerificationEvent,
    canonical_json,
    load_canonical_json,
    parse_record,
)

HEADER = "hallmark.certificate/v1"
"""The first line of every certificate payload."""
ATTACHMENT = "hallmark-certificate.txt"
"""The payload's file name inside the PDF."""
MAX_PDF_SIZE = 8 * 1024 * 1024
MAX_PAYLOAD_SIZE = 64 * 1024

_DECIMAL = re.compile(r"-?[0-9]{1,15}\.[0-9]{2,4}")
_EVIDENCE_COUNTS = ("inliers", "matches")
_EVIDENCE_VALUES = ("fine", "coarse", "lbp_distance", "overlap", "novelty")
_EVIDENCE_LABELS = {
    "inliers": "Keypoint inliers",
    "matches": "Keypoint matches",
    "fine": "Fine texture correlation",
    "coarse": "Coarse texture correlation",
    "lbp_distance": "LBP distance",
    "overlap": "Window overlap",
    "novelty": "Print-screen novelty",
}
_BODY_KEYS = frozenset(
    {"device_key", "event", "event_leaf", "evidence", "outcome", "proof", "reason", "record"}
    | {"thresholds"}
)


class CertificateFormatError(ValueError):
    """The file or payload is not a well-formed certificate: not a PDF, truncated, no or
    several payloads, or a payload that does not parse. The message says which."""


class CertificateMismatchError(VerificationError):
    """The certificate's parts disagree: the event and the record name different items,
    the outcome differs from the signed verdict, or the page states something else than
    the signed payload (``claim`` is the statement the page lacks)."""

    def __init__(self, message: str, *, claim: str | None = None) -> None:
        super().__init__(message)
        self.claim = claim


class CannotCertify(ValueError):
    """A verification that cannot be certified: nothing was matched against a record."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate:
    """A certificate's payload and what it states, as issued or as verified."""

    payload: bytes
    event_envelope: bytes
    """The device-signed verification event, as a ledger entry holds it."""
    record_envelope: bytes
    """The manufacturer-signed product record, as a ledger entry holds it."""
    event: VerificationEvent
    device_key: VerifierKey
    record: ProductRecord
    leaf_index: int
    checkpoint: Checkpoint
    proof: str
    outcome: Outcome
    reason: str | None
    genuine_at: str
    counterfeit_below: str
    evidence: tuple[tuple[str, str], ...]
    """``(name, value)`` pairs of the match evidence, values as decimal text."""
    event_leaf: int | None

    @property
    def digest(self) -> str:
        """SHA-256 of the payload, hex: what the page and its QR code print."""
        return hashlib.sha256(self.payload).hexdigest()


def issue(
    verification: Verification,
    *,
    device: Signer,
) -> Certificate:
    """Sign a certificate for ``verification`` with the ``device`` key.

    The body embeds the verification event the device signed and logged (or queued) for
    the check, and names its leaf when logged, and the thresholds the verdict was decided
    with (``verification.params``). Raises `CannotCertify` for a verification without a matched,
    proven record or without an event signed by ``device``.
    """
    proven, match, envelope = verification.proven, verification.match, verification.event
    if proven is None or match is None:
        raise CannotCertify(f"serial {verification.serial} was not matched against a record")
    if envelope is None or envelope.signer != device.key_id:
        raise CannotCertify(
            f"the check of serial {verification.serial} was not logged by device "
            f"{device.key_id.format()}: verify with this device's key"
        )
    e, params = match.evidence, verification.params
    body: dict[str, Any] = {
        "device_key": device.verifier.format(),
        "event": encode_base64(envelope.format()),
        "event_leaf": verification.event_leaf,
        "evidence": {
            "inliers": e.inliers,
            "matches": e.matches,
            **{name: _decimal_text(getattr(e, name), name) for name in _EVIDENCE_VALUES},
        },
        "outcome": verification.outcome.value,
        "proof": format_proof(
            proven.leaf_index, proven.inclusion_proof, proven.checkpoint.note.format()
        ),
        "reason": verification.reason,
        "record": encode_base64(proven.envelope),
        "thresholds": {
            "counterfeit_below": f"{params.counterfeit_below:.2f}",
            "genuine_at": f"{params.genuine_at:.2f}",
        },
    }
    text = f"{HEADER}\n{canonical_json(body).decode()}\n"
    payload = Note(text=text, signatures=(device.key.sign(text),)).format().encode()
    return _parse(payload)


def verify_payload(
    payload: bytes, policy: TrustPolicy, *, issuers: tuple[VerifierKey, ...] = ()
) -> Certificate:
    """The certificate in ``payload`` once every check passes (see the module docstring).

    The issuing device must be one of ``issuers`` when given, else one of the policy's
    ``device`` keys when it lists any; otherwise any device may issue (`vouched` says).
    """
    cert = _parse(payload)
    allowed = issuers or policy.devices
    if allowed and cert.device_key not in allowed:
        trusted = ", ".join(k.reference for k in allowed)
        raise SignatureError(
            f"issued by device {cert.device_key.reference}, want one of {trusted}",
            key=cert.device_key.reference,
        )
    Note.parse(payload).verify([cert.device_key])
    _check_agreement(cert)
    event = SignedEnvelope.parse(cert.event_envelope).open([cert.device_key])
    checkpoint = verify_proof(cert.proof, cert.record_envelope, policy).checkpoint
    record = SignedEnvelope.parse(cert.record_envelope).open(policy.manufacturers)
    if event != cert.event or record != cert.record or checkpoint != cert.checkpoint:
        raise CertificateMismatchError("the signed parts differ from the parsed ones")
    return cert


def vouched(cert: Certificate, policy: TrustPolicy, issuers: tuple[VerifierKey, ...] = ()) -> bool:
    """Whether the issuing device is one the verifier named or its policy lists."""
    return cert.device_key in (issuers or policy.devices)


def read_pdf(data: bytes) -> tuple[bytes, str]:
    """The payload attached to a certificate PDF, and the text of its pages (as pypdf
    extracts it: spacing and ligatures may differ from what was drawn).

    Raises `CertificateFormatError` for a file that is too large, not a PDF, truncated
    (no ``%%EOF`` at its end), unreadable in pypdf's strict mode, or that holds no
    payload, several, or other attachments.
    """
    if len(data) > MAX_PDF_SIZE:
        raise CertificateFormatError(f"file is {len(data)} bytes, want ≤ {MAX_PDF_SIZE}")
    if not data.startswith(b"%PDF-"):
        raise CertificateFormatError(f"not a PDF: starts with {data[:8]!r}, want b'%PDF-'")
    if not data.rstrip().endswith(b"%%EOF"):
        raise CertificateFormatError("truncated PDF: no %%EOF at its end")
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        attachments = {name: list(items) for name, items in reader.attachments.items()}
        text = " ".join(page.extract_text() for page in reader.pages)
    # pypdf reports malformed input through its own errors and these built-in ones.
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise CertificateFormatError(f"unreadable PDF: {type(exc).__name__}: {exc}") from exc
    others = sorted(set(attachments) - {ATTACHMENT})
    if others:
        raise CertificateFormatError(f"unexpected attachments {others}, want only {ATTACHMENT}")
    found = attachments.get(ATTACHMENT, [])
    if len(found) != 1:
        raise CertificateFormatError(f"{len(found)} payloads named {ATTACHMENT}, want 1")
    return found[0], text


def verify_certificate(
    data: bytes, policy: TrustPolicy, *, issuers: tuple[VerifierKey, ...] = ()
) -> Certificate:
    """Check a certificate PDF: its payload (`verify_payload`) and that its page states
    each of `page_claims`, and no other verdict.

    Text is compared without whitespace and in NFKC form: text extraction from a PDF
    guesses word spacing from glyph positions and returns ligatures as one character.
    """
    payload, text = read_pdf(data)
    cert = verify_payload(payload, policy, issuers=issuers)
    page = _squeezed(text)
    for claim in page_claims(cert):
        if _squeezed(claim) not in page:
            raise CertificateMismatchError(
                f"the page does not state {claim!r}, which the signed payload does", claim=claim
            )
    words = "|".join(_squeezed(o.value.upper()) for o in Outcome)
    verdicts = re.findall(rf"VERDICT:({words})", page)
    if verdicts != [_squeezed(cert.outcome.value.upper())]:
        raise CertificateMismatchError(
            f"the page states verdicts {verdicts}, the signed payload {cert.outcome.value}"
        )
    return cert


def _squeezed(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def page_claims(cert: Certificate) -> tuple[str, ...]:
    """Statements the PDF page prints, each on one line, and `verify_certificate` demands."""
    return (
        f"VERDICT: {cert.outcome.value.upper()}",
        f"Item: GTIN {cert.record.gtin} serial {cert.record.serial}",
        f"Payload SHA-256: {cert.digest}",
    )


def page_rows(cert: Certificate) -> list[tuple[str, str]]:
    """The facts the page lists below its claims, as ``(label, text)`` rows."""
    record, event, cp = cert.record, cert.event, cert.checkpoint
    rows = [
        ("Score", f"{event.score:+.2f} (log-odds that the capture is this item)"),
        (
            "Thresholds",
            f"genuine at ≥ {cert.genuine_at}, counterfeit below {cert.counterfeit_below}, "
            "retake between",
        ),
        *((_EVIDENCE_LABELS[name], value) for name, value in cert.evidence),
        ("Verified", f"{_when(event.time)}" + (f" at {event.place}" if event.place else "")),
        ("Verifying device", cert.device_key.reference),
        ("Manufacturer key", record.manufacturer.format()),
        ("Batch", record.batch or "—"),
        ("Registered", _when(record.time)),
        ("Ledger leaf", f"{cert.leaf_index} of {cp.size}"),
        ("Checkpoint", f"{cp.origin}, size {cp.size}"),
        ("Checkpoint root", cp.root_hash.hex()),
        ("Scan logged", "no" if cert.event_leaf is None else f"at leaf {cert.event_leaf}"),
    ]
    if cert.reason:
        rows.insert(0, ("Reason", cert.reason))
    return rows


def qr_text(cert: Certificate) -> str:
    """What the page's QR code says: the item and the payload digest."""
    return (
        f"{HEADER} gtin={cert.record.gtin} serial={cert.record.serial} "
        f"verdict={cert.outcome.value} sha256={cert.digest}"
    )


def _parse(payload: bytes) -> Certificate:
    """The certificate a payload states, well formed but with no signature checked."""
    if len(payload) > MAX_PAYLOAD_SIZE:
        raise CertificateFormatError(f"payload is {len(payload)} bytes, want ≤ {MAX_PAYLOAD_SIZE}")
    try:
        note = Note.parse(payload)
    except SignatureError as exc:
        raise CertificateFormatError(f"payload is not a signed note: {exc}") from exc
    header, _, rest = note.text.partition("\n")
    if header != HEADER:
        raise CertificateFormatError(f"payload starts {header[:40]!r}, want {HEADER!r}")
    try:
        body = load_canonical_json(rest.removesuffix("\n").encode(), limit=MAX_PAYLOAD_SIZE)
    except RecordFormatError as exc:
        raise CertificateFormatError(f"payload body: {exc}") from exc
    if not isinstance(body, dict) or set(body) != _BODY_KEYS:
        keys = sorted(body) if isinstance(body, dict) else type(body).__name__
        raise CertificateFormatError(f"payload body has {keys}, want {sorted(_BODY_KEYS)}")
    try:
        return _certificate(payload, body)
    except (RecordFormatError, ValueError, TypeError, KeyError) as exc:
        raise CertificateFormatError(f"payload body: {exc}") from exc


def _certificate(payload: bytes, body: dict[str, Any]) -> Certificate:
    event_bytes, record_bytes = (
        _b64decode(body["event"], "event"),
        _b64decode(body["record"], "record"),
    )
    event, record = SignedEnvelope.parse(event_bytes), SignedEnvelope.parse(record_bytes)
    parsed_event, parsed_record = parse_record(event.payload), parse_record(record.payload)
    if not isinstance(parsed_event, VerificationEvent):
        raise ValueError(f"event holds a {parsed_event.TYPE} record")
    if not isinstance(parsed_record, ProductRecord):
        raise ValueError(f"record holds a {parsed_record.TYPE} record")
    proof = _typed(body["proof"], str, "proof")
    parsed_proof = parse_proof(proof)
    thresholds = _typed(body["thresholds"], dict, "thresholds")
    evidence = _typed(body["evidence"], dict, "evidence")
    if set(thresholds) != {"genuine_at", "counterfeit_below"}:
        raise ValueError(f"thresholds has {sorted(thresholds)}")
    if set(evidence) != {*_EVIDENCE_COUNTS, *_EVIDENCE_VALUES}:
        raise ValueError(f"evidence has {sorted(evidence)}")
    counts = [(n, str(_typed(evidence[n], int, n))) for n in _EVIDENCE_COUNTS]
    values = [(n, _decimal(evidence[n], n)) for n in _EVIDENCE_VALUES]
    leaf = body["event_leaf"]
    reason = body["reason"]
    cert = Certificate(
        payload=payload,
        event_envelope=event_bytes,
        record_envelope=record_bytes,
        event=parsed_event,
        device_key=VerifierKey.parse(_typed(body["device_key"], str, "device_key")),
        record=parsed_record,
        leaf_index=parsed_proof.index,
        checkpoint=parsed_proof.checkpoint,
        proof=proof,
        outcome=Outcome(_typed(body["outcome"], str, "outcome")),
        reason=None if reason is None else _typed(reason, str, "reason"),
        genuine_at=_decimal(thresholds["genuine_at"], "genuine_at"),
        counterfeit_below=_decimal(thresholds["counterfeit_below"], "counterfeit_below"),
        evidence=(*counts, *values),
        event_leaf=None if leaf is None else _typed(leaf, int, "event_leaf"),
    )
    return cert


def _check_agreement(cert: Certificate) -> None:
    """Event, record and outcome must speak of one item and one verdict."""
    event, record = cert.event, cert.record
    if (event.gtin, event.serial) != (record.gtin, record.serial):
        raise CertificateMismatchError(
            f"the event is about GTIN {event.gtin} serial {event.serial}, "
            f"the record about GTIN {record.gtin} serial {record.serial}"
        )
    if event.device != KeyId.of(cert.device_key):
        raise CertificateMismatchError(
            f"the event names device {event.device.format()}, "
            f"the certificate key {cert.device_key.reference}"
        )
    signed = event.verdict.value
    if cert.outcome.value != signed:
        raise CertificateMismatchError(f"outcome {cert.outcome.value}, signed verdict {signed}")


def _typed(value: Any, kind: type, name: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{name} is {type(value).__name__}, want {kind.__name__}")
    return value


def _decimal(value: Any, name: str) -> str:
    text = _typed(value, str, name)
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"{name} is {text!r:.30}, want a decimal like 3.18")
    return str(text)


def _b64decode(value: Any, name: str) -> bytes:
    try:
        return decode_base64(_typed(value, str, name))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc


def _decimal_text(value: float, name: str) -> str:
    if not math.isfinite(value) or abs(value) >= 1e15:
        raise CannotCertify(f"match evidence {name} is {value}: nothing to certify")
    return f"{value:.3f}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
