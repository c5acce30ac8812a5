"""Privacy-preserving fingerprint commitments: the ledger holds a hash, never a template.

>>> commitment, key = commit_to([t.features.residual for t in enrolment])  # doctest: +SKIP
>>> open_with(commitment, live.features.residual).opened                   # doctest: +SKIP

`code` makes the item's stable bits, `bch` corrects the bits a new capture flips,
`scheme` binds them to a salted key and writes the versioned commitment bytes.
"""

from fingerprint.commitment.errors import CommitmentError, CommitmentFormatError, EnrolmentError
from fingerprint.commitment.scheme import (
    SCHEME,
    VERSION,
    Commitment,
    CommitmentParams,
    Opening,
    commit,
    commit_to,
    open_commitment,
    open_with,
)

__all__ = [
    "SCHEME",
    "VERSION",
    "Commitment",
    "CommitmentError",
    "CommitmentFormatError",
    "CommitmentParams",
    "EnrolmentError",
    "Opening",
    "commit",
    "commit_to",
    "open_commitment",
    "open_with",
]
