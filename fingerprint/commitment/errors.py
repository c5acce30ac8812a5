"""Errors of the commitment scheme.

::

    FingerprintError                      (fingerprint.errors)
    └── CommitmentError
        ├── CommitmentFormatError         commitment bytes are foreign, truncated,
        │                                 trailing, or hold inconsistent parameters
        └── EnrolmentError                captures cannot be committed to (too few,
                                          of different sizes)

A capture that does not open a commitment is an outcome (`scheme.Opening`), not an error.
"""

from __future__ import annotations

from fingerprint.errors import FingerprintError


class CommitmentError(FingerprintError, ValueError):
    """Base class of the commitment scheme's errors."""


class CommitmentFormatError(CommitmentError):
    """Commitment bytes cannot be decoded."""


class EnrolmentError(CommitmentError):
    """The enrolment captures cannot make a commitment."""
