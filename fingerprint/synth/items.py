"""Synthetic items: a material surface carrying a printed GS1 DataMatrix label."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fingerprint.synth.gs1 import element_string, serial_of
from fingerprint.synth.label import CODE_ORIGIN_PX, SURFACE_SHAPE, print_label
from fingerprint.synth.materials import Material, PhotoSource, texture

#: GS1 item reference (part of the GTIN) of each material's product line.
_PRODUCT = {material: 10 + i for i, material in enumerate(Material)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One physical item as its printed label surface.

    Attributes
    ----------
    item_id : str
        Identifier unique within a dataset, e.g. ``"paper-0003"``.
    material : Material
        The surface family.
    gs1 : str
        GS1 element string printed in the DataMatrix, HRI form.
    surface : NDArray[np.uint8]
        Label reflectance × 255, shape (528, 896), 16 pixels per code module, read-only.
    code_origin_px : tuple of float
        Surface coordinates (x, y) of the code's outer top-left corner, with pixel
        centres at integer coordinates; a point (u, v) in module units of
        :class:`fingerprint.region.RegionSpec` lies at ``code_origin_px + 16·(u, v)``.
    """

    item_id: str
    material: Material
    gs1: str
    surface: NDArray[np.uint8]
    code_origin_px: tuple[float, float]

    def __post_init__(self) -> None:
        if self.surface.dtype != np.uint8 or self.surface.ndim != 2:
            raise ValueError(
                f"surface must be a 2-D uint8 array, got {self.surface.dtype} {self.surface.shape}"
            )
        self.surface.flags.writeable = False


def make_item(rng: np.random.Generator, material: Material, index: int) -> Item:
    """Draw a new item of ``material``: its own texture, its own serial ``index``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the item is a deterministic function of its state.
    material : Material
        Surface family.
    index : int
        Item number within its material, 0–9999; names the item
        (``"{material}-{index:04d}"``). The serial is unique across materials too
        (the material's product code × 10,000 + index), as a registry keyed by serial
        needs.

    Returns
    -------
    Item
    """
    if not 0 <= index < 10_000:
        raise ValueError(f"item index must be in 0..9999, got {index}")
    serial = _PRODUCT[material] * 10_000 + index
    gs1 = element_string(product=_PRODUCT[material], serial=serial)
    return build_item(rng, material=material, gs1=gs1, item_id=f"{material}-{index:04d}")


def photo_source(gs1: str) -> PhotoSource:
    """The photograph PHOTO items labelled ``gs1`` are cut from: serials cycle through
    brick, gravel and grass, so a counterfeit with a copied serial looks the same."""
    sources = list(PhotoSource)
    return sources[serial_of(gs1) % len(sources)]


def build_item(rng: np.random.Generator, *, material: Material, gs1: str, item_id: str) -> Item:
    """A fresh surface of ``material`` labelled with ``gs1`` (see :func:`make_item`)."""
    bare = texture(rng, material, SURFACE_SHAPE, photo=photo_source(gs1))
    return Item(
        item_id=item_id,
        material=material,
        gs1=gs1,
        surface=print_label(bare, gs1, rng),
        code_origin_px=CODE_ORIGIN_PX,
    )
