"""Synthetic items, captures and attacks for tests, ``hallmark eval`` and benchmarks.

An :class:`Item` is a label surface at 16 px per code module: a GS1 DataMatrix printed
on a white quiet-zone box, and beside it, at :class:`fingerprint.region.RegionSpec`, a
window of bare :class:`Material` whose microtexture is unique to the item.
:func:`capture` photographs it on a table (pose, blur, light, sensor noise, JPEG) at a
:class:`Tier` of difficulty; :func:`copied_serial`, :func:`print_copy` and :func:`twin`
counterfeit it; :func:`write_dataset` writes a whole evaluation set. The physical model
and its parameters are described in ``docs/synth.md``.

Everything is deterministic given the ``numpy.random.Generator`` passed in.
"""

from fingerprint.synth.attacks import copied_serial, print_copy, twin
from fingerprint.synth.capture import Capture, capture, capture_jpeg, capture_with_truth, render
from fingerprint.synth.dataset import (
    MANIFEST_HEADER,
    ManifestRow,
    Role,
    read_manifest,
    write_dataset,
    write_manifest,
)
from fingerprint.synth.gs1 import CODE_MODULES
from fingerprint.synth.items import Item, make_item
from fingerprint.synth.label import SURFACE_PX_PER_MODULE, SURFACE_SHAPE
from fingerprint.synth.materials import Material
from fingerprint.synth.scene import Background
from fingerprint.synth.tiers import NOMINAL_PX_PER_MODULE, CaptureParams, Tier, sample_params

__all__ = [
    "CODE_MODULES",
    "MANIFEST_HEADER",
    "NOMINAL_PX_PER_MODULE",
    "SURFACE_PX_PER_MODULE",
    "SURFACE_SHAPE",
    "Background",
    "Capture",
    "CaptureParams",
    "Item",
    "ManifestRow",
    "Material",
    "Role",
    "Tier",
    "capture",
    "capture_jpeg",
    "capture_with_truth",
    "copied_serial",
    "make_item",
    "print_copy",
    "read_manifest",
    "render",
    "sample_params",
    "twin",
    "write_dataset",
    "write_manifest",
]
