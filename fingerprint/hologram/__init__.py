"""Hologram fingerprints: tell a real diffractive hologram from a printed or stuck-on copy.

A tilt burst (10–60 frames while the item is tilted round) is registered to the item's
code, turned into per-pixel maps of how each pixel's colour changes with the angle
(the MIDV-Holo baseline map S_max·(1 − ‖ΣC‖/N), hue range, glint, and the grating
orientation field: which way each pixel's grating points, from the directions in which
it shines), checked for liveness (printed copy, screen) and matched against the enrolled
hologram (generic film, another item). Pure: no Qt, no network.

>>> frames = load_burst("tilt.mp4")                       # doctest: +SKIP
>>> reference = extract_hologram(frames)                  # doctest: +SKIP
>>> verdict = match_hologram(reference, extract_hologram(load_burst("live/")))  # doctest: +SKIP
>>> verdict.decision, verdict.reasons                     # doctest: +SKIP
"""

from fingerprint.hologram.burst import check_burst, load_burst
from fingerprint.hologram.coverage import TiltCoverage, coverage_of, tilt_coverage
from fingerprint.hologram.errors import BurstError
from fingerprint.hologram.liveness import Liveness, LivenessReason
from fingerprint.hologram.params import HologramParams
from fingerprint.hologram.template import HologramTemplate
from fingerprint.hologram.verify import (
    HologramReason,
    HologramVerdict,
    extract_hologram,
    match_hologram,
    retake_reasons,
    template_liveness,
)

__all__ = [
    "BurstError",
    "HologramParams",
    "HologramReason",
    "HologramTemplate",
    "HologramVerdict",
    "Liveness",
    "LivenessReason",
    "TiltCoverage",
    "check_burst",
    "coverage_of",
    "extract_hologram",
    "load_burst",
    "match_hologram",
    "retake_reasons",
    "template_liveness",
    "tilt_coverage",
]
