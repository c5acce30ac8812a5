"""Identity: is the live hologram the enrolled one, not just any hologram?

Both templates hold the foil's grating orientation field ``c·e^{2iθ}``
(:mod:`fingerprint.hologram.maps`) in the code's frame, registered to a fraction of a
pixel, so the product's design, where this item's foil was stamped (a module or so off,
a few degrees turned) and its flakes land on the same patch pixels in every burst of
the item. Another item of the product shares the design but not the stamping offset or
the flakes; generic film shares neither. The evidence is the normalised correlation of
the two fields over the window's inner part,

    ρ = |Σ a·b̄| / √(Σ|a|² · Σ|b|²),

its modulus taken so that a common turn of every orientation (the light a little off
the lens, which the field assumes it is on) costs nothing; the turn is reported. A
logistic fusion (``IdentityParams``; fitted with :func:`fingerprint.calibrate.fit_fusion`
on the Fisher z of ρ) turns it into the log-odds of "same hologram".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fingerprint.errors import TemplateFormatError
from fingerprint.hologram.params import IdentityParams
from fingerprint.hologram.template import HologramTemplate

MARGIN_PX = 6
"""Patch pixels left out at the window's edges (the printed frame, the foil's edge)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityEvidence:
    """``orientation``: correlation ρ of the orientation fields (0–1); ``turn_deg``: the
    common turn of the live orientations against the enrolled ones, degrees."""

    orientation: float
    turn_deg: float

    @property
    def features(self) -> tuple[float, ...]:
        """Fusion inputs in ``IdentityParams.weights`` order: the Fisher z of ρ."""
        return (_fisher_z(self.orientation),)


def compare(reference: HologramTemplate, probe: HologramTemplate) -> IdentityEvidence:
    """Measure how well ``probe``'s orientation field agrees with ``reference``'s."""
    if reference.patch_size != probe.patch_size:
        raise TemplateFormatError(
            f"hologram templates of different patch sizes: {reference.patch_size} "
            f"vs {probe.patch_size}"
        )
    a, b = _inner(reference.orientation_field()), _inner(probe.orientation_field())
    cross = complex(np.sum(a * np.conj(b)))
    energy = float(np.sqrt(np.sum(np.abs(a) ** 2) * np.sum(np.abs(b) ** 2)))
    if energy < 1e-12:
        return IdentityEvidence(orientation=0.0, turn_deg=0.0)
    return IdentityEvidence(
        orientation=abs(cross) / energy, turn_deg=float(np.rad2deg(-np.angle(cross)) / 2)
    )


def score_of(evidence: IdentityEvidence, params: IdentityParams = IdentityParams()) -> float:
    """Fused log-odds that both templates show the same hologram."""
    return float(params.bias + np.dot(params.weights, evidence.features))


def _inner(field: NDArray[np.complex64]) -> NDArray[np.complex128]:
    m = MARGIN_PX
    return np.asarray(field[m:-m, m:-m], np.complex128)


def _fisher_z(r: float) -> float:
    return float(np.arctanh(np.clip(r, -0.995, 0.995)))
