"""From a tilt burst to a hologram template, and from two templates to a verdict.

``extract_hologram``: check the burst, register it, compute the maps, segment the
optically variable area, measure liveness, and keep the grating orientation field.
``match_hologram``: retake when the probe burst is too thin to judge (code not found,
too few frames registered, too few tilt directions); counterfeit with its own reason
when liveness fails (static colours: a printed copy; moiré: a screen) or when the
pattern is not the enrolled one (generic film, another item); genuine when the
identity log-odds reach ``IdentityParams.genuine_at``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram.burst import Frame, check_burst
from fingerprint.hologram.coverage import TiltCoverage, coverage_of
from fingerprint.hologram.identity import IdentityEvidence, compare, score_of
from fingerprint.hologram.liveness import Liveness, LivenessReason, liveness_of, measure_liveness
from fingerprint.hologram.maps import hologram_maps
from fingerprint.hologram.moire import moire_score
from fingerprint.hologram.params import HologramParams
from fingerprint.hologram.register import Registration, register
from fingerprint.hologram.segment import segment
from fingerprint.hologram.template import HologramTemplate
from fingerprint.match import Decision
from fingerprint.region import RegionSpec


class HologramReason(enum.StrEnum):
    """Why a burst is not accepted as genuine."""

    NO_CODE = "no_code"
    """Retake: the item's code was not found, so the frames could not be registered."""
    TOO_FEW_FRAMES = "too_few_frames"
    """Retake: fewer frames than a burst needs could be registered."""
    TOO_FEW_ANGLES = "too_few_angles"
    """Retake: the item was not tilted in enough directions."""
    WEAK_EVIDENCE = "weak_evidence"
    """Retake: identity neither clearly matches nor clearly differs."""
    STATIC_COLOURS = "static_colours"
    """Counterfeit: no angle-dependent colour (a printed copy)."""
    SCREEN = "screen"
    """Counterfeit: a screen's moiré (a photo shown on a display)."""
    PATTERN_MISMATCH = "pattern_mismatch"
    """Counterfeit: a hologram, but not this item's (generic film, another item's label)."""


_LIVENESS = {
    LivenessReason.STATIC_COLOURS: HologramReason.STATIC_COLOURS,
    LivenessReason.SCREEN: HologramReason.SCREEN,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class HologramVerdict:
    """The verdict on a probe burst against an enrolled hologram.

    ``score`` is the identity log-odds; ``reasons`` name every check that failed, the
    retake ones first.
    """

    decision: Decision
    score: float
    reasons: tuple[HologramReason, ...]
    liveness: Liveness
    coverage: TiltCoverage
    evidence: IdentityEvidence


def extract_hologram(
    frames: Sequence[Frame],
    region: RegionSpec = RegionSpec(),
    params: HologramParams = HologramParams(),
) -> HologramTemplate:
    """Analyse a tilt burst (10–60 BGR frames of one size) into a hologram template.

    Raises
    ------
    BurstError
        The frames cannot form a burst (count, size, colour, dtype).
    """
    burst = check_burst(frames, params.burst)
    return analyse(register(burst, region, params.registration), params)


def analyse(
    registration: Registration, params: HologramParams = HologramParams()
) -> HologramTemplate:
    """The hologram template of a registered burst: maps, OVD, liveness, coverage."""
    coverage = coverage_of(registration.tilts, params.coverage)
    size = params.registration.patch_size
    if len(registration.frames) == 0:
        blank = np.zeros((size, size), np.float32)
        nothing = liveness_of(0.0, 0.0, 0.0, params.liveness)
        return _template("", 0, coverage, blank, blank.astype(np.complex64), blank > 0, nothing)
    maps = hologram_maps(
        registration.patches, registration.cameras, registration.region, params.maps
    )
    mask = segment(maps.glint, params.maps)
    live = measure_liveness(maps, mask, moire_score(registration.patches), params.liveness)
    code = registration.code.text if registration.code is not None else ""
    return _template(
        code, len(registration.frames), coverage, maps.midv, maps.orientation, mask, live
    )


def _template(
    code: str,
    frames: int,
    coverage: TiltCoverage,
    midv: NDArray[np.float32],
    orientation: NDArray[np.complex64],
    mask: NDArray[np.bool_],
    live: Liveness,
) -> HologramTemplate:
    """Quantise the maps; float32 measures, so bytes round-trip exactly."""

    def f32(value: float) -> float:
        return float(np.float32(value))

    return HologramTemplate(
        code_text=code,
        frames=frames,
        sectors=coverage.sectors,
        max_tilt_deg=f32(coverage.max_tilt_deg),
        ovd_share=f32(live.ovd_share),
        hue_range=f32(live.hue_range),
        moire=f32(live.moire),
        midv=np.clip(np.rint(midv * 255), 0, 255).astype(np.uint8),
        orientation=HologramTemplate.quantise(orientation),
        mask=mask,
    )


def retake_reasons(
    template: HologramTemplate, params: HologramParams = HologramParams()
) -> tuple[HologramReason, ...]:
    """Why a burst is too thin to judge (an empty tuple when it is good enough)."""
    reasons = []
    if template.frames == 0:
        reasons.append(HologramReason.NO_CODE)
    elif template.frames < params.burst.min_frames:
        reasons.append(HologramReason.TOO_FEW_FRAMES)
    if sum(template.sectors) < params.coverage.min_sectors:
        reasons.append(HologramReason.TOO_FEW_ANGLES)
    return tuple(reasons)


def template_liveness(
    template: HologramTemplate, params: HologramParams = HologramParams()
) -> Liveness:
    """The liveness verdict recorded in a template, judged against ``params``."""
    return liveness_of(template.ovd_share, template.hue_range, template.moire, params.liveness)


def template_coverage(
    template: HologramTemplate, params: HologramParams = HologramParams()
) -> TiltCoverage:
    return TiltCoverage(
        sectors=template.sectors,
        needed=params.coverage.min_sectors,
        max_tilt_deg=template.max_tilt_deg,
    )


def match_hologram(
    reference: HologramTemplate,
    probe: HologramTemplate,
    params: HologramParams = HologramParams(),
) -> HologramVerdict:
    """Decide whether ``probe`` is a new burst of the hologram ``reference`` was made from."""
    evidence = compare(reference, probe)
    score = score_of(evidence, params.identity)
    live = template_liveness(probe, params)
    retake = retake_reasons(probe, params)
    reasons = list(retake) + [_LIVENESS[r] for r in live.reasons]
    if live.live and score < params.identity.genuine_at:
        weak = score >= params.identity.counterfeit_below
        reasons.append(HologramReason.WEAK_EVIDENCE if weak else HologramReason.PATTERN_MISMATCH)
    if retake or HologramReason.WEAK_EVIDENCE in reasons:
        decision = Decision.RETAKE
    elif reasons:
        decision = Decision.COUNTERFEIT
    else:
        decision = Decision.GENUINE
    return HologramVerdict(
        decision=decision,
        score=score,
        reasons=tuple(reasons),
        liveness=live,
        coverage=template_coverage(probe, params),
        evidence=evidence,
    )
