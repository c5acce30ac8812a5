"""Errors raised by the fingerprint engine.

::

    FingerprintError
    ├── ImageError            the input is not a usable image (empty, tiny, truncated,
    │                         not an image, too large to decode safely, wrong dtype)
    └── TemplateFormatError   template bytes are corrupt, truncated or of a foreign format

Outcomes are values, not exceptions: a capture that needs retaking is a ``Match`` with
``Decision.RETAKE`` and its ``RetakeReason``s.
"""

from __future__ import annotations


class FingerprintError(Exception):
    """Base class of every error the engine raises."""


class ImageError(FingerprintError, ValueError):
    """The input cannot be used as an image."""


class TemplateFormatError(FingerprintError, ValueError):
    """Template bytes cannot be decoded."""
