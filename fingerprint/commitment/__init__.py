"""Privacy-preserving fingerprint commitments: the ledger holds a hash, never a template.

>>> framed = frame_window(gray)                                  # doctest: +SKIP
>>> commitment, key = commit_to([framed.patch for framed in enrolment])  # doctest: +SKIP
>>> open_with(commitment, framed.patch).opened                   # doctest: +SKIP

`frame` cuts the window at the printed code's frame refined to a fraction of a pixel,
`code` makes the item's bits and their reliability, `bch` corrects the bits a new
capture flips, `scheme` binds them to a salted key and writes the versioned commitment
bytes; `params` holds every tunable number.
"""

from fingerprint.commitment.errors import CommitmentError, CommitmentFormatError, EnrolmentError
from fingerprint.commitment.frame import Framed, frame_window
from fingerprint.commitment.params import CommitmentParams, FrameParams
from fingerprint.commitment.scheme import (
    SCHEME,
    VERSION,
    Commitment,
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
    "FrameParams",
    "Framed",
    "Opening",
    "commit",
    "commit_to",
    "frame_window",
    "open_commitment",
    "open_with",
]
