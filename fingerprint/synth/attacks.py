"""Counterfeits of a genuine item; each carries the genuine item's GS1 string.

* :func:`copied_serial`: another item of the same material, printed with the target's
  serial (a valid code on the wrong item: the attack a fingerprint must stop).
* :func:`print_copy`: the genuine label photographed and reprinted on a halftone printer.
* :func:`twin`: an item from the same mould: the target's coarse structure, new fine
  texture.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from fingerprint.synth.capture import render
from fingerprint.synth.fields import Field, as_field, gaussian_field, highpass, masked_lowpass
from fingerprint.synth.ink import apply_ink, clustered_dot_screen, halftone, spread
from fingerprint.synth.items import Item, build_item, photo_source
from fingerprint.synth.label import SURFACE_SHAPE, WHITE_INK, artwork, print_label
from fingerprint.synth.materials import texture
from fingerprint.synth.tiers import Tier, sample_params

#: Default wavelength (surface px) below which a twin's texture is new. Hallmark models
#: 0.3 mm code modules (19 µm per surface px): 24 px is 0.45 mm, a mould fixing the relief
#: coarser than 1.5 modules while the finer grain forms anew in each moulding.
TWIN_CUTOFF_PX = 24.0
#: Default range of the print copy's halftone cell (surface px): 110–190 µm at 0.3 mm
#: modules, the 135–230 lpi screens of laser and offset printers.
COPY_CELL_PX = (6.0, 10.0)
#: Assumed display gamma the counterfeiter undoes on their photograph.
_ASSUMED_GAMMA = 2.2
#: Reflectance of the copier's stock and one-pass transmittance of its toner.
_STOCK = 0.9
_INK_TRANSMITTANCE = 0.3


def copied_serial(target: Item, rng: np.random.Generator) -> Item:
    """A different item of ``target``'s material carrying ``target``'s GS1 string."""
    return build_item(
        rng, material=target.material, gs1=target.gs1, item_id=f"{target.item_id}~copied_serial"
    )


def twin(target: Item, rng: np.random.Generator, *, cutoff_px: float = TWIN_CUTOFF_PX) -> Item:
    """An item from ``target``'s mould: the same structure coarser than ``cutoff_px``.

    The target's bare material is low-passed by a Gaussian whose gain is 1/2 at a
    wavelength of ``cutoff_px`` surface pixels (normalised convolution around the printed
    areas, so no print leaks into it), a fresh texture of the same material is
    high-passed by the same Gaussian and added, and the label is printed anew.

    Parameters
    ----------
    target : Item
        The genuine item.
    rng : numpy.random.Generator
        Draws the new fine texture and the print.
    cutoff_px : float
        Shared/new crossover wavelength; 24 px (1.5 modules) by default. A smaller value
        models a mould that fixes more of the surface (a harder twin).
    """
    sigma = cutoff_px * np.sqrt(np.log(2) / 2) / np.pi  # exp(−2π²σ²/λ²) = 1/2 at λ
    weight = 1 - artwork(target.gs1).footprint(margin_px=4)
    shared = masked_lowpass(target.surface.astype(np.float32) / np.float32(255), weight, sigma)
    fresh = texture(rng, target.material, SURFACE_SHAPE, photo=photo_source(target.gs1))
    bare = np.clip(shared + highpass(fresh, sigma), 0.02, 0.98)
    return dataclasses.replace(
        target, item_id=f"{target.item_id}~twin", surface=print_label(bare, target.gs1, rng)
    )


def _photograph(target: Item, rng: np.random.Generator) -> Field:
    """The counterfeiter's estimate of ``target``'s reflectance, at surface resolution.

    A close, sharp, evenly lit photograph (about 11–16 px per module, flat tone curve,
    JPEG quality 95) is warped back onto the surface grid (with a registration error of
    up to a pixel), linearised with an assumed gamma of 2.2 and scaled so that the
    label's white comes out at the white ink's reflectance.
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
        contrast=0.0,
        photons=30e3,
        read_noise=1e-3,
        jpeg_quality=95,
    )
    shot = render(target, params, rng, tier=Tier.EASY, size=(1024, 768))
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
    return as_field(np.clip(rectified * np.float32(WHITE_INK / white), 0, 1))


@dataclass(frozen=True, slots=True)
class _Printer:
    """The copier's halftone printer: addressing grid, screen and ink behaviour."""

    pitch: float  # printer pixel, in surface pixels
    cell: float  # screen pitch, in printer pixels
    angle_deg: float
    phase: tuple[float, float]
    tone_noise: float  # per-dot density jitter
    spread_px: float  # ink spread, surface pixels
    roughness: float  # edge raggedness

    @classmethod
    def draw(cls, rng: np.random.Generator, cell_px: tuple[float, float]) -> _Printer:
        pitch = float(rng.uniform(1.0, 1.6))
        return cls(
            pitch=pitch,
            cell=float(rng.uniform(*cell_px)) / pitch,
            angle_deg=float(rng.uniform(0, 90)),
            phase=(float(rng.random()), float(rng.random())),
            tone_noise=float(rng.uniform(0.01, 0.03)),
            spread_px=float(rng.uniform(0.5, 1.0)),
            roughness=float(rng.uniform(0.03, 0.07)),
        )

    def grid(self, shape: tuple[int, int]) -> tuple[int, int]:
        """(width, height) of the printer grid covering a surface of ``shape``."""
        return round(shape[1] / self.pitch), round(shape[0] / self.pitch)

    def coverage(self, darkness: Field, rng: np.random.Generator, shape: tuple[int, int]) -> Field:
        """Ink coverage on a surface of ``shape`` for ``darkness`` on the printer grid."""
        jittered = darkness + np.float32(self.tone_noise) * gaussian_field(rng, darkness.shape, 0.7)
        screen = clustered_dot_screen(
            darkness.shape, cell_px=self.cell, angle_deg=self.angle_deg, phase=self.phase
        )
        dots = cv2.resize(
            halftone(jittered, screen, cell_px=self.cell),
            (shape[1], shape[0]),
            interpolation=cv2.INTER_LINEAR,
        )
        return spread(
            dots, rng, sigma=self.spread_px, gain=2.0, roughness=self.roughness, threshold=0.45
        )


def _print(printer: _Printer, darkness: Field, stock: Field, rng: np.random.Generator) -> Field:
    """Reflectance of ``stock`` printed by ``printer`` with ``darkness`` (printer grid)."""
    coverage = printer.coverage(darkness, rng, stock.shape)
    return apply_ink(stock, coverage, transmittance=_INK_TRANSMITTANCE, scatter_px=2.0)


def _linearised(printer: _Printer, rng: np.random.Generator) -> Callable[[Field], Field]:
    """The darkness to send ``printer`` for a wanted reflectance, from a printed step wedge.

    Like a real copier's calibration, a wedge of flat tones is printed on plain stock,
    its reflectance measured, and the measured curve inverted by interpolation; this
    absorbs the mechanical (ink spread) and optical (Yule–Nielsen) dot gain.
    """
    levels = np.linspace(0.0, 1.0, 17, dtype=np.float32)
    patch = 32
    wedge = np.repeat(levels, patch)[None, :].repeat(patch, axis=0)
    surface_shape = (round(patch * printer.pitch), round(wedge.shape[1] * printer.pitch))
    printed = _print(printer, wedge, np.full(surface_shape, _STOCK, np.float32), rng)
    columns = printed.mean(axis=0)
    step = surface_shape[1] / len(levels)
    measured = np.array(
        [
            columns[int((k + 0.25) * step) : int((k + 0.75) * step)].mean()
            for k in range(len(levels))
        ]
    )
    order = np.argsort(measured)

    def darkness_for(reflectance: Field) -> Field:
        return as_field(np.interp(reflectance, measured[order], levels[order]))

    return darkness_for


def print_copy(
    target: Item, rng: np.random.Generator, *, cell_px: tuple[float, float] = COPY_CELL_PX
) -> Item:
    """``target``'s label photographed, halftoned and printed on the copier's own stock.

    The photograph (see ``_photograph``) is resampled to the printer's grid (pitch
    1–1.6 surface px), tone-corrected with the printer's calibration (see
    ``_linearised``), screened with a clustered-dot halftone (cell drawn from
    ``cell_px`` surface px, any angle), printed with mechanical and optical dot gain on a
    stock with its own noise, and the code, frame and text are reprinted cleanly over
    it: the original's fine texture is lost, its coarse structure and tones kept.

    Parameters
    ----------
    target : Item
        The genuine item.
    rng : numpy.random.Generator
        Draws the photograph, the printer and the print.
    cell_px : tuple of float
        Range of the halftone cell, surface px. The default 6–10 px is 110–190 µm for
        0.3 mm modules (135–230 lpi); for 0.5 mm modules the same screens are 3–6 px.

    References
    ----------
    A. Murray, "Monochrome reproduction in photoengraving", J. Franklin Inst. 221, 1936.
    J. A. C. Yule and W. J. Nielsen, "The penetration of light into paper and its effect
    on halftone reproduction", TAGA Proceedings, 1951.
    """
    reflectance = _photograph(target, rng)
    printer = _Printer.draw(rng, cell_px)
    wanted = cv2.resize(reflectance, printer.grid(SURFACE_SHAPE), interpolation=cv2.INTER_AREA)
    darkness = _linearised(printer, rng)(as_field(wanted))
    stock = np.float32(_STOCK) + np.float32(0.015) * gaussian_field(rng, SURFACE_SHAPE, 1.0)
    stock += np.float32(0.01) * gaussian_field(rng, SURFACE_SHAPE, 10.0)
    return dataclasses.replace(
        target,
        item_id=f"{target.item_id}~print_copy",
        surface=print_label(_print(printer, darkness, stock, rng), target.gs1, rng),
    )
