"""Hallmark's fingerprint engine: image → template → match. Pure: no Qt, no network.

>>> reference = extract("enrolled.png")            # doctest: +SKIP
>>> verdict = match(reference, extract("live.jpg"))  # doctest: +SKIP
>>> verdict.decision, verdict.score                  # doctest: +SKIP
"""

from fingerprint.errors import FingerprintError, ImageError, TemplateFormatError
from fingerprint.match import Decision, Evidence, Match, match
from fingerprint.pipeline import extract
from fingerprint.quality import QualityIssue, RetakeReason
from fingerprint.region import RegionSpec
from fingerprint.template import Template

__all__ = [
    "Decision",
    "Evidence",
    "FingerprintError",
    "ImageError",
    "Match",
    "QualityIssue",
    "RegionSpec",
    "RetakeReason",
    "Template",
    "TemplateFormatError",
    "extract",
    "match",
]
