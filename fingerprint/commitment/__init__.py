"""Privacy-preserving fingerprint commitments: the ledger holds a hash, never a template.

>>> framed = frame_window(gray)                                  # doctest: +SKIP
>>> commitment, key = commit_to(enrolment)                       # doctest: +SKIP
>>> opening = open_with(commitment, framed.patch)                # doctest: +SKIP
>>> copy_score(examine(commitment, opening, screen_peak(framed.patch)))  # doctest: +SKIP

`frame` cuts the window at the printed code's frame refined to a fraction of a pixel,
`code` makes the item's bits and their reliability, `bch` corrects the bits a new
capture flips, `scheme` binds them to a salted key and writes the versioned commitment
bytes, `texture` is the one enrolment statistic stored beside them, `copy_evidence`
tells a print copy from the item once a capture opened its commitment; `params` holds
every tunable number.
"""

from fingerprint.commitment.copy_evidence import (
    CopyEvidence,
    copy_score,
    decide,
    examine,
    screen_peak,
)
from fingerprint.commitment.errors import CommitmentError, CommitmentFormatError, EnrolmentError
from fingerprint.commitment.frame import Framed, frame_window
from fingerprint.commitment.params import CommitmentParams, CopyParams, FrameParams
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
    "CopyEvidence",
    "CopyParams",
    "EnrolmentError",
    "FrameParams",
    "Framed",
    "Opening",
    "commit",
    "commit_to",
    "copy_score",
    "decide",
    "examine",
    "frame_window",
    "open_commitment",
    "open_with",
    "screen_peak",
]
