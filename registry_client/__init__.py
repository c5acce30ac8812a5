"""Hallmark's registry client: the protocol core of the transparency ledger.

Pure modules (no network, no Qt): `errors`, `merkle` (RFC 6962/9162 trees and proofs),
`note` (C2SP signed-note, witness cosignatures), `checkpoint` (C2SP tlog-checkpoint),
`tiles` (C2SP tlog-tiles), `records` (signed product, key, verification and revocation
records) and `policy` (trust policy). Import what you use from its module.
"""
