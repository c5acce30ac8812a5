"""Hallmark's fingerprint engine: image → template → match. Pure: no Qt, no network.

>>> reference = extract("enrolled.png")            # doctest: +SKIP
>>> verdict = match(reference, extract("live.jpg"))  # doctest: +SKIP
>>> verdict.decision, verdict.score                  # doctest: +SKIP

Holograms (tilt bursts): ``extract_hologram(load_burst("tilt.mp4"))`` and
``match_hologram``; see :mod:`fingerprint.hologram`.
"""

from fingerprint.errors import FingerprintError, ImageError, TemplateFormatError
from fingerprint.hologram import (
    HologramTemplate,
    HologramVerdict,
    extract_hologram,
    load_burst,
    match_hologram,
)
from fingerprint.match import Decision, Evidence, Match, match
from fingerprint.pipeline import extract
from fingerprint.quality import QualityIssue, RetakeReason
from fingerprint.region import RegionSpec
from fingerprint.template import Template

__all__ = [
    "Decision",
    "Evidence",
    "FingerprintError",
    "HologramTemplate",
    "HologramVerdict",
    "ImageError",
    "Match",
    "QualityIssue",
    "RegionSpec",
    "RetakeReason",
    "Template",
    "TemplateFormatError",
    "extract",
    "extract_hologram",
    "load_burst",
    "match",
    "match_hologram",
]
