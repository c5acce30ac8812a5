"""From an image to a template: locate the window, measure its quality, describe it."""

from __future__ import annotations

from fingerprint.features import describe
from fingerprint.image import ImageInput, to_gray
from fingerprint.locate import locate
from fingerprint.params import FeatureParams
from fingerprint.quality import measure
from fingerprint.region import RegionSpec
from fingerprint.template import Template


def extract(
    image: ImageInput, region: RegionSpec = RegionSpec(), params: FeatureParams = FeatureParams()
) -> Template:
    """Fingerprint one capture: a file path, encoded bytes, or an 8/16-bit grey/BGR/BGRA array.

    Raises
    ------
    ImageError
        The input is not a usable image.
    """
    gray = to_gray(image)
    window = locate(gray, region, params.patch_size)
    return Template(
        features=describe(window.patch, params),
        quality=measure(window.patch, window.size_px, window.in_view),
        code_text=window.code.text if window.code is not None else "",
        located_by_code=window.code is not None,
    )
