"""Tilt bursts of a hologram label: the user tilts the item round in front of the camera.

Each frame is a pinhole view of the label (focal length 0.9 × frame width, as in
:mod:`fingerprint.synth.camera`), centred on the optical axis and tilted along the
burst's schedule, lit by a small source beside the lens (a phone's torch). Per window
pixel the view and light directions give the tangential vector ``w = v_t + l_t`` the
foil's gratings answer to (:func:`fingerprint.synth.hologram.window_colour`); the
colour frame then goes through the capture simulator's optics, sensor and encoder
(point spread, Bayer sampling, Poisson–Gaussian noise, tone curve, JPEG).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.synth.camera import label_coverage, point_spread, project, surface_corners
from fingerprint.synth.fields import Field, as_field
from fingerprint.synth.hologram import HologramItem, window_box, window_colour
from fingerprint.synth.label import SURFACE_PX_PER_MODULE, WHITE_INK
from fingerprint.synth.scene import background, illumination
from fingerprint.synth.sensor import BAYER_CHANNELS, add_noise, develop, encode_jpeg
from fingerprint.synth.tiers import NOMINAL_PX_PER_MODULE, CaptureParams, Tier, sample_params

FOCAL_PER_WIDTH = 0.9
"""Focal length in frame widths, the same camera as ``fingerprint.synth.camera``."""
_MARGIN_PX = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class TiltSchedule:
    """How the item is tilted over a burst: round a circle of ``tilt_deg`` (± jitter).

    ``turns`` is how many times the tilt direction goes round; ``start_deg`` where it
    starts; ``light_offset_deg`` the angle between lens and light as seen from the item.
    """

    frames: int
    tilt_deg: float
    turns: float
    start_deg: float
    light_offset_deg: float
    light_azimuth_deg: float


def sample_schedule(
    rng: np.random.Generator, frames: int, *, max_tilt_deg: float = 25.0
) -> TiltSchedule:
    """A guided hand-held sweep: 15°–``max_tilt_deg`` of tilt, about one turn, light by the lens."""
    return TiltSchedule(
        frames=frames,
        tilt_deg=float(rng.uniform(min(15.0, max_tilt_deg), max_tilt_deg)),
        turns=float(rng.uniform(0.9, 1.2)),
        start_deg=float(rng.uniform(0, 360)),
        light_offset_deg=float(rng.uniform(1, 6)),
        light_azimuth_deg=float(rng.uniform(0, 360)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Pose:
    """Label pose in camera coordinates (units: surface pixels): X = R·(P − centre) + t."""

    rotation: NDArray[np.float64]
    translation: NDArray[np.float64]


def _pose(
    scale: float, rotation_deg: float, tilt_deg: float, tilt_axis_deg: float, focal: float
) -> Pose:
    spin = cv2.Rodrigues(np.array([0.0, 0.0, np.deg2rad(rotation_deg)]))[0]
    axis = np.deg2rad(tilt_axis_deg)
    tilt = cv2.Rodrigues(np.deg2rad(tilt_deg) * np.array([np.cos(axis), np.sin(axis), 0.0]))[0]
    magnification = scale * NOMINAL_PX_PER_MODULE / SURFACE_PX_PER_MODULE
    return Pose(rotation=tilt @ spin, translation=np.array([0.0, 0.0, focal / magnification]))


def _homography(pose: Pose, shape: tuple[int, ...], size: tuple[int, int]) -> NDArray[np.float64]:
    """Surface→frame homography ``K·[r1 r2 t]·C`` (Hartley & Zisserman 2004, §8.1)."""
    width, height = size
    focal = FOCAL_PER_WIDTH * width
    intrinsic = np.array([[focal, 0, (width - 1) / 2], [0, focal, (height - 1) / 2], [0, 0, 1]])
    extrinsic = np.c_[pose.rotation[:, :2], pose.translation]
    centre = np.array([[1, 0, -(shape[1] - 1) / 2], [0, 1, -(shape[0] - 1) / 2], [0, 0, 1]])
    return np.asarray(intrinsic @ extrinsic @ centre)


def _tangential(pose: Pose, schedule: TiltSchedule, shape: tuple[int, ...]) -> tuple[Field, Field]:
    """``w = v_t + l_t`` at every window pixel, in the label's frame, (S, S) each."""
    x0, y0, side = window_box()
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float64)
    px = xs + x0 - (shape[1] - 1) / 2
    py = ys + y0 - (shape[0] - 1) / 2
    to_label = pose.rotation.T
    camera = -to_label @ pose.translation
    distance = pose.translation[2]
    offset = distance * np.tan(np.deg2rad(schedule.light_offset_deg))
    beta = np.deg2rad(schedule.light_azimuth_deg)
    light = to_label @ (
        np.array([offset * np.cos(beta), offset * np.sin(beta), 0.0]) - pose.translation
    )

    def unit_xy(point: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        dx, dy, dz = point[0] - px, point[1] - py, point[2]
        norm = np.sqrt(dx * dx + dy * dy + dz * dz)
        return dx / norm, dy / norm

    vx, vy = unit_xy(camera)
    lx, ly = unit_xy(light)
    return as_field(vx + lx), as_field(vy + ly)


def colour_surface(item: HologramItem, wx: Field, wy: Field) -> NDArray[np.float32]:
    """The label's BGR reflectance (H, W, 3) with the window as seen with ``w``."""
    surface = np.repeat(item.surface[..., None].astype(np.float32) / np.float32(255), 3, axis=2)
    x0, y0, side = window_box()
    surface[y0 : y0 + side, x0 : x0 + side] = window_colour(item, wx, wy)
    return surface


def _frame(
    surface: NDArray[np.float32],
    homography: NDArray[np.float64],
    params: CaptureParams,
    rng: np.random.Generator,
    size: tuple[int, int],
    emissive: bool,
) -> bytes:
    """One JPEG frame of a colour ``surface`` through the capture simulator's stages."""
    shading, tint = background(rng, params.background, size)
    light = illumination(rng, size, gradient=params.gradient, vignetting=params.vignetting)
    centre = np.array([[(surface.shape[1] - 1) / 2, (surface.shape[0] - 1) / 2]])
    step = project(centre + np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), homography)
    rate = float(np.sqrt(abs(np.linalg.det(np.c_[step[1] - step[0], step[2] - step[0]]))))
    sigma = 0.5 * np.sqrt(max(0.0, 1 / rate**2 - 1))  # as camera.antialiased
    source = cv2.GaussianBlur(surface, (0, 0), sigma) if sigma > 0 else surface
    label = cv2.warpPerspective(source, homography, size, flags=cv2.INTER_LINEAR)
    coverage = label_coverage(project(surface_corners(surface.shape), homography), size)[..., None]
    behind = (shading[..., None] * tint) * light[..., None]
    lit = label if emissive else label * light[..., None]
    scene = coverage * lit + (1 - coverage) * behind
    kernel = point_spread(
        defocus_px=params.defocus_px,
        motion_px=params.motion_px,
        motion_angle_deg=params.motion_angle_deg,
    )
    scene = cv2.filter2D(scene, -1, kernel)
    gain = np.asarray(params.white_balance, np.float32) * np.float32(params.exposure / WHITE_INK)
    scene = scene * gain
    height, width = scene.shape[:2]
    rows, cols = np.mgrid[0:height, 0:width]
    mosaic = as_field(
        np.take_along_axis(scene, BAYER_CHANNELS[rows % 2, cols % 2][..., None], 2)[..., 0]
    )
    raw = add_noise(mosaic, rng, photons=params.photons, read_noise=params.read_noise)
    return encode_jpeg(
        develop(raw, gamma=params.gamma, contrast=params.contrast), params.jpeg_quality
    )


def burst_jpegs(
    item: HologramItem,
    rng: np.random.Generator,
    *,
    frames: int = 20,
    tier: Tier = Tier.MEDIUM,
    size: tuple[int, int] = (640, 480),
    schedule: TiltSchedule | None = None,
) -> list[bytes]:
    """A tilt burst of ``item``: ``frames`` JPEG files of (width, height) ``size``.

    The tier draws one set of optics, light and sensor settings for the whole burst
    (``fingerprint.synth.tiers``); the tilt follows ``schedule`` (drawn when None) with
    per-frame jitter, a slow in-plane drift and up to 2.5 px of motion blur per frame.
    """
    if frames < 1:
        raise ValueError(f"want at least one frame, got {frames}")
    base = sample_params(rng, tier)
    schedule = schedule or sample_schedule(rng, frames)
    focal = FOCAL_PER_WIDTH * size[0]
    shape = item.surface.shape
    scale = base.scale
    out = []
    for k in range(frames):
        phase = 2 * np.pi * schedule.turns * k / max(frames - 1, 1)
        params = dataclasses.replace(
            base,
            tilt_deg=max(0.0, schedule.tilt_deg * float(rng.uniform(0.75, 1.1))),
            tilt_axis_deg=schedule.start_deg + float(np.rad2deg(phase)) + 90.0,
            rotation_deg=base.rotation_deg + float(rng.uniform(-2, 2)),
            motion_px=float(rng.uniform(0, 2.5)),
            motion_angle_deg=float(rng.uniform(0, 180)),
        )
        while True:
            pose = _pose(scale, params.rotation_deg, params.tilt_deg, params.tilt_axis_deg, focal)
            homography = _homography(pose, shape, size)
            corners = project(surface_corners(shape), homography)
            if corners.min() >= _MARGIN_PX and np.all(
                corners.max(axis=0) <= np.array(size) - _MARGIN_PX
            ):
                break
            scale *= 0.95
        wx, wy = _tangential(pose, schedule, shape)
        surface = colour_surface(item, wx, wy)
        out.append(_frame(surface, homography, params, rng, size, item.emissive))
    return out


def burst(
    item: HologramItem,
    rng: np.random.Generator,
    *,
    frames: int = 20,
    tier: Tier = Tier.MEDIUM,
    size: tuple[int, int] = (640, 480),
    schedule: TiltSchedule | None = None,
) -> list[NDArray[np.uint8]]:
    """The decoded frames of :func:`burst_jpegs`: BGR uint8, (height, width, 3) each."""
    files = burst_jpegs(item, rng, frames=frames, tier=tier, size=size, schedule=schedule)
    return [
        np.asarray(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), np.uint8)
        for data in files
    ]
