"""Camera simulator: a synthetic item photographed on a table.

The frame is rendered in the order light travels: geometry (a pinhole camera looking at
the tilted label), optics (defocus and motion blur), the sensor (Bayer mosaic,
Poisson–Gaussian noise, gamma, 8-bit quantisation, demosaicing) and the JPEG encoder.
The label is warped from an anti-aliased copy of its surface, so the same item's fine
texture renders consistently from one capture to the next.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.synth.camera import (
    antialiased,
    fit_in_frame,
    label_coverage,
    local_rate,
    pinhole,
    point_spread,
    project,
    surface_corners,
)
from fingerprint.synth.fields import Field, as_field
from fingerprint.synth.items import Item
from fingerprint.synth.label import SURFACE_PX_PER_MODULE, WHITE_INK
from fingerprint.synth.scene import background, illumination
from fingerprint.synth.sensor import add_noise, bayer_view, develop, encode_jpeg, row_pattern
from fingerprint.synth.tiers import NOMINAL_PX_PER_MODULE, CaptureParams, Tier, sample_params

#: Extra room around the label for its shadow, frame pixels.
_SHADOW_PAD_PX = 24


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture:
    """A synthetic camera frame with its ground truth.

    Attributes
    ----------
    image : NDArray[np.uint8]
        The decoded frame, BGR, shape (H, W, 3), read-only.
    jpeg : bytes
        The JPEG file ``image`` was decoded from.
    homography : NDArray[np.float64]
        Shape (3, 3): maps surface pixel coordinates to frame pixel coordinates
        (homogeneous, pixel centres at integers), read-only.
    tier : Tier
        Difficulty the parameters were drawn for.
    params : CaptureParams
        The parameters used.
    """

    image: NDArray[np.uint8]
    jpeg: bytes
    homography: NDArray[np.float64]
    tier: Tier
    params: CaptureParams

    def __post_init__(self) -> None:
        self.image.flags.writeable = False
        self.homography.flags.writeable = False


def homography_for(
    params: CaptureParams, surface_shape: tuple[int, ...], size: tuple[int, int]
) -> tuple[NDArray[np.float64], float]:
    """Surface→frame homography of ``params``, with the whole label in the frame.

    The label is shrunk below ``params.scale`` when it would not fit a frame of ``size``
    (width, height).

    Returns
    -------
    homography : NDArray[np.float64]
        Shape (3, 3).
    scale : float
        The scale actually used.
    """
    scale = params.scale
    for _ in range(8):
        placed = fit_in_frame(
            pinhole(
                magnification=scale * NOMINAL_PX_PER_MODULE / SURFACE_PX_PER_MODULE,
                rotation_deg=params.rotation_deg,
                tilt_deg=params.tilt_deg,
                tilt_axis_deg=params.tilt_axis_deg,
                surface_shape=surface_shape,
                size=size,
            ),
            surface_shape=surface_shape,
            size=size,
            placement=params.placement,
        )
        if placed is not None:
            return placed, scale
        scale *= 0.9
    raise ValueError(f"a {size[0]}×{size[1]} frame is too small for a label")


@dataclass(frozen=True, slots=True)
class _Patch:
    """The label warped into a frame-aligned window starting at an even (x0, y0)."""

    x0: int
    y0: int
    reflectance: Field
    coverage: Field


def _warp_label(
    surface: NDArray[np.uint8], homography: NDArray[np.float64], size: tuple[int, int], pad: int
) -> _Patch:
    """Warp an anti-aliased ``surface`` into the frame region it covers, grown by ``pad``."""
    width, height = size
    corners = project(surface_corners(surface.shape), homography)
    x0, y0 = (np.maximum(np.floor(corners.min(axis=0)) - pad, 0).astype(int) // 2) * 2
    x1, y1 = np.minimum(2 * (np.ceil(corners.max(axis=0) + pad).astype(int) // 2), [width, height])
    to_patch = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]]) @ homography
    patch_size = (int(x1 - x0), int(y1 - y0))
    centre = np.array([(surface.shape[1] - 1) / 2, (surface.shape[0] - 1) / 2])
    source = antialiased(surface, local_rate(homography, centre))
    warped = cv2.warpPerspective(
        source, to_patch, patch_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    reflectance = as_field(warped) * np.float32(1 / 255)
    coverage = label_coverage(corners - [x0, y0], patch_size)
    return _Patch(int(x0), int(y0), reflectance, coverage)


def _shadow(coverage: Field, offset: NDArray[np.float64]) -> Field:
    """Fraction of the light the label's soft shadow takes from what lies behind it.

    The label's coverage moved by ``offset`` (whole pixels; a shadow needs no more) and
    spread over a few pixels, the further the source of light the softer.
    """
    dx, dy = (round(v) for v in offset)
    height, width = coverage.shape
    cast = np.zeros_like(coverage)
    cast[max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = coverage[
        max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)
    ]
    size = 2 * round(3 + 0.7 * float(np.hypot(dx, dy))) + 1
    return as_field(cv2.stackBlur(cast, (size, size))) * np.float32(0.35)


def _signal(
    patch: _Patch,
    shading: Field,
    colour: NDArray[np.float32],
    light: Field,
    kernel: NDArray[np.float32],
    params: CaptureParams,
    shadow_offset: NDArray[np.float64],
) -> Field:
    """Expected raw sensor signal (Bayer mosaic, fraction of full scale).

    The scene is the background, darkened by the label's soft shadow, with the label
    laid over it. Only the label is sharp, so the lens blur is applied to its layer
    ``coverage·(label − background)`` and the background is taken as already smooth.
    """
    height, width = patch.coverage.shape
    ys, xs = slice(patch.y0, patch.y0 + height), slice(patch.x0, patch.x0 + width)
    signal = shading * light
    behind = signal[ys, xs] * (1 - _shadow(patch.coverage, shadow_offset))
    on_label = cv2.filter2D(patch.coverage * patch.reflectance, -1, kernel) * light[ys, xs]
    under_label = cv2.filter2D(patch.coverage * behind, -1, kernel)

    balance = np.asarray(params.white_balance, np.float32) * np.float32(params.exposure / WHITE_INK)
    signal[ys, xs] = behind
    bayer_view(signal)[...] *= row_pattern(colour * balance, signal.shape[1])
    window = bayer_view(signal[ys, xs])
    window += bayer_view(on_label) * row_pattern(balance, width)
    window -= bayer_view(under_label) * row_pattern(colour * balance, width)
    return signal


def _expose(
    item: Item, params: CaptureParams, rng: np.random.Generator, size: tuple[int, int]
) -> tuple[bytes, NDArray[np.float64], CaptureParams]:
    """The JPEG file, homography and parameters actually used of one capture."""
    width, height = size
    if width % 2 or height % 2 or min(size) < 64:
        raise ValueError(f"frame size must be even and at least 64×64, got {width}×{height}")
    homography, scale = homography_for(params, item.surface.shape, size)
    shading, colour = background(rng, params.background, size)
    light = illumination(rng, size, gradient=params.gradient, vignetting=params.vignetting)
    kernel = point_spread(
        defocus_px=params.defocus_px,
        motion_px=params.motion_px,
        motion_angle_deg=params.motion_angle_deg,
    )
    shadow_offset = rng.uniform(-1, 1, 2) * 6 * scale
    patch = _warp_label(item.surface, homography, size, kernel.shape[0] // 2 + _SHADOW_PAD_PX)
    signal = _signal(patch, shading, colour, light, kernel, params, shadow_offset)
    raw = add_noise(signal, rng, photons=params.photons, read_noise=params.read_noise)
    jpeg = encode_jpeg(
        develop(raw, gamma=params.gamma, contrast=params.contrast), params.jpeg_quality
    )
    used = params if scale == params.scale else dataclasses.replace(params, scale=scale)
    return jpeg, homography, used


def render(
    item: Item,
    params: CaptureParams,
    rng: np.random.Generator,
    *,
    tier: Tier,
    size: tuple[int, int] = (1280, 960),
) -> Capture:
    """Photograph ``item`` with the given parameters.

    Parameters
    ----------
    item : Item
        What is photographed.
    params : CaptureParams
        Pose, optics, light, sensor and encoder settings.
    rng : numpy.random.Generator
        Draws the background, the light's direction, the shadow and the sensor noise.
    tier : Tier
        Recorded in the result.
    size : tuple of int
        Frame (width, height) in pixels, both even.

    Returns
    -------
    Capture
        With ``params.scale`` lowered if the label had to shrink to fit the frame.
    """
    jpeg, homography, used = _expose(item, params, rng, size)
    image = np.asarray(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), np.uint8)
    return Capture(image=image, jpeg=jpeg, homography=homography, tier=tier, params=used)


def capture_with_truth(
    item: Item,
    rng: np.random.Generator,
    tier: Tier = Tier.MEDIUM,
    size: tuple[int, int] = (1280, 960),
) -> Capture:
    """Photograph ``item`` under parameters drawn for ``tier``; see :func:`render`."""
    return render(item, sample_params(rng, tier), rng, tier=tier, size=size)


def capture(
    item: Item,
    rng: np.random.Generator,
    tier: Tier = Tier.MEDIUM,
    size: tuple[int, int] = (1280, 960),
) -> NDArray[np.uint8]:
    """A camera frame of ``item``: BGR uint8, shape (size[1], size[0], 3)."""
    return capture_with_truth(item, rng, tier, size).image


def capture_jpeg(
    item: Item,
    rng: np.random.Generator,
    tier: Tier = Tier.MEDIUM,
    size: tuple[int, int] = (1280, 960),
) -> bytes:
    """The JPEG file of ``capture_with_truth(item, rng, tier, size)``, not decoded.

    The same bytes for the same ``rng`` state; for writing datasets without paying for
    a decode.
    """
    return _expose(item, sample_params(rng, tier), rng, size)[0]
