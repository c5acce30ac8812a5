"""Counterfeits of a genuine item; each carries the genuine item's GS1 string.

* :func:`copied_serial`: another item of the same material, printed with the target's
  serial (a valid code on the wrong item: the attack a fingerprint must stop).
* :func:`print_copy`: the genuine label photographed and reprinted on a halftone printer.
* :func:`twin`: an item from the same mould: the target's coarse structure, new fine
  texture.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from fingerprint.synth.capture import Tier, render, sample_params
from fingerprint.synth.fields import Field, as_field, gaussian_field, highpass, masked_lowpass
from fingerprint.synth.ink import apply_ink, clustered_dot_screen, halftone, spread
from fingerprint.synth.items import Item, build_item, photo_source
from fingerprint.synth.label import SURFACE_SHAPE, artwork, print_label
from fingerprint.synth.materials import texture

#: Gaussian σ (surface px) splitting a twin's shared and new bands: its transfer
#: function is 1/2 at a wavelength of 8 surface pixels.
TWIN_CUTOFF_SIGMA = 8 * np.sqrt(np.log(2) / 2) / np.pi
#: Assumed display gamma the counterfeiter undoes on their photograph.
_ASSUMED_GAMMA = 2.2


def copied_serial(target: Item, rng: np.random.Generator) -> Item:
    """A different item of ``target``'s material carrying ``target``'s GS1 string."""
    return build_item(
        rng, material=target.material, gs1=target.gs1, item_id=f"{target.item_id}~copied_serial"
    )


def twin(target: Item, rng: np.random.Generator) -> Item:
    """An item from ``target``'s mould: the same structure coarser than ~8 px, new finer.

    The target's bare material is low-passed (normalised convolution around the printed
    areas, so no print leaks into it) and a fresh texture's high-pass of the same
    material is added; the label is printed anew.
    """
    weight = 1 - artwork(target.gs1).footprint(margin_px=4)
    shared = masked_lowpass(
        target.surface.astype(np.float32) / np.float32(255), weight, TWIN_CUTOFF_SIGMA
    )
    fresh = texture(rng, target.material, SURFACE_SHAPE, photo=photo_source(target.gs1))
    bare = np.clip(shared + highpass(fresh, TWIN_CUTOFF_SIGMA), 0.02, 0.98)
    return dataclasses.replace(
        target, item_id=f"{target.item_id}~twin", surface=print_label(bare, target.gs1, rng)
    )


def _photograph(target: Item, rng: np.random.Generator) -> Field:
    """The counterfeiter's estimate of ``target``'s reflectance, at surface resolution.

    A close, sharp, evenly lit photograph (about 11–16 px per module, JPEG quality 95)
    is warped back onto the surface grid (with a registration error of up to a pixel),
    linearised with an assumed gamma of 2.2 and scaled so the label's white is 0.93.
    """
    params = dataclasses.replace(
        sample_params(rng, Tier.EASY),
        scale=float(rng.uniform(1.4, 2.0)),
        rotation_deg=float(rng.uniform(-5, 5)),
        tilt_deg=float(rng.uniform(0, 3)),
        defocus_px=float(rng.uniform(0.2, 0.5)),
        motion_px=float(rng.uniform(0.0, 0.3)),
        gradient=float(rng.uniform(0.0, 0.05)),
        vignetting=0.0,
        photons=30e3,
        read_noise=1e-3,
        jpeg_quality=95,
    )
    shot = render(target, params, rng, tier=Tier.EASY, size=(1280, 960))
    grey = cv2.cvtColor(np.asarray(shot.image), cv2.COLOR_BGR2GRAY).astype(np.float32) / 255
    misregistration = np.array([[1, 0, rng.uniform(-1, 1)], [0, 1, rng.uniform(-1, 1)], [0, 0, 1]])
    rectified = cv2.warpPerspective(
        grey ** np.float32(_ASSUMED_GAMMA),
        shot.homography @ misregistration,
        (SURFACE_SHAPE[1], SURFACE_SHAPE[0]),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    white = float(np.percentile(rectified, 99.5))
    return as_field(np.clip(rectified * np.float32(0.93 / white), 0, 1))


def _coverage_for(reflectance: Field) -> Field:
    """Halftone coverage the copier asks for to reproduce ``reflectance``.

    Inverts the Yule–Nielsen law ``R^(1/n) = a·R_ink^(1/n) + (1 − a)·R_paper^(1/n)`` with
    ``n = 2`` for the copier's stock and ink, and backs off the expected mechanical gain.
    """
    paper, solid, root = 0.9, 0.9 * 0.3**2, 0.5
    wanted = np.clip(reflectance, solid, paper) ** np.float32(root)
    coverage = (paper**root - wanted) / np.float32(paper**root - solid**root)
    return np.asarray(coverage * np.float32(0.85), dtype=np.float32)


def print_copy(target: Item, rng: np.random.Generator) -> Item:
    """``target``'s label photographed, halftoned and printed on the copier's own stock.

    The photograph (see ``_photograph``) is resampled to the printer's grid (pitch
    1–1.6 surface px), screened with a clustered-dot halftone (cell 3–6 surface px, any
    angle), printed with mechanical and optical dot gain on a stock with its own noise,
    and the code, frame and text are reprinted cleanly over it: the original's fine
    texture is lost, its coarse structure kept.

    References
    ----------
    A. Murray, "Monochrome reproduction in photoengraving", J. Franklin Inst. 221, 1936.
    J. A. C. Yule and W. J. Nielsen, "The penetration of light into paper and its effect
    on halftone reproduction", TAGA Proceedings, 1951.
    """
    reflectance = _photograph(target, rng)
    height, width = SURFACE_SHAPE
    pitch = float(rng.uniform(1.0, 1.6))
    grid = (round(width / pitch), round(height / pitch))
    darkness = _coverage_for(cv2.resize(reflectance, grid, interpolation=cv2.INTER_AREA))
    darkness += np.float32(rng.uniform(0.01, 0.03)) * gaussian_field(rng, darkness.shape, 0.7)
    cell = float(rng.uniform(3.0, 6.0)) / pitch
    screen = clustered_dot_screen(
        darkness.shape,
        cell_px=cell,
        angle_deg=float(rng.uniform(0, 90)),
        phase=(float(rng.random()), float(rng.random())),
    )
    dots = cv2.resize(
        halftone(darkness, screen, cell_px=cell), (width, height), interpolation=cv2.INTER_LINEAR
    )
    coverage = spread(
        dots,
        rng,
        sigma=float(rng.uniform(0.5, 1.0)),
        gain=2.0,
        roughness=float(rng.uniform(0.03, 0.07)),
        threshold=0.25,
    )
    stock = np.float32(0.9) + np.float32(0.015) * gaussian_field(rng, SURFACE_SHAPE, 1.0)
    stock += np.float32(0.01) * gaussian_field(rng, SURFACE_SHAPE, 10.0)
    printed = apply_ink(stock, coverage, transmittance=0.3, scatter_px=2.0)
    return dataclasses.replace(
        target,
        item_id=f"{target.item_id}~print_copy",
        surface=print_label(printed, target.gs1, rng),
    )
