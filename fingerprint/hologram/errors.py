"""Errors of the hologram engine, within the fingerprint engine's tree.

::

    FingerprintError
    ├── ImageError
    │   └── BurstError          the frames cannot form a tilt burst: too few or too many,
    │                           of mixed sizes, grey, or an unreadable video or folder
    └── TemplateFormatError     hologram template bytes are corrupt, truncated or foreign

Outcomes are values: a burst that needs retaking, or a counterfeit, is a
``HologramVerdict`` with its reasons.
"""

from __future__ import annotations

from fingerprint.errors import ImageError


class BurstError(ImageError):
    """The frames given cannot be analysed as one tilt burst."""
