"""Bare material textures: the microstructure a fingerprint window shows.

Each generator returns a reflectance map in [0, 1] (float32, shape (H, W)) drawn
independently for every call, with item-unique structure from 1 pixel up to tens of
pixels; the parameters fix only the statistics, so items of one material look alike.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.synth.fields import Field, as_field, domain_warp, gaussian_field, shade
from fingerprint.synth.ink import apply_ink, clustered_dot_screen, halftone, spread


class Material(StrEnum):
    """Families of item surface."""

    PAPER = "paper"
    """Uncoated paper: fibres and formation (cloudy density)."""
    PLASTIC = "plastic"
    """Injection-moulded polymer with an EDM grain and filler glints."""
    LEATHER = "leather"
    """Grain leather: cells bounded by creases, with pores."""
    PRINT = "print"
    """Toner tint on coated stock: halftone dots, scatter and mottle."""
    PHOTO = "photo"
    """Crops of real photographs (brick, gravel, grass) with item-unique fine detail."""


class PhotoSource(StrEnum):
    """Photographs shipped with scikit-image that PHOTO surfaces are cut from."""

    BRICK = "brick"
    GRAVEL = "gravel"
    GRASS = "grass"


def texture(
    rng: np.random.Generator,
    material: Material,
    shape: tuple[int, int],
    *,
    photo: PhotoSource = PhotoSource.BRICK,
) -> Field:
    """A fresh reflectance map of ``material``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness; the result is a deterministic function of its state.
    material : Material
        Which generator to use.
    shape : tuple of int
        (H, W) in surface pixels (16 per code module).
    photo : PhotoSource
        The photograph to cut a PHOTO surface from; ignored by other materials.

    Returns
    -------
    Field
        Reflectance in [0.02, 0.98], float32, shape (H, W).
    """
    match material:
        case Material.PAPER:
            reflectance = _paper(rng, shape)
        case Material.PLASTIC:
            reflectance = _plastic(rng, shape)
        case Material.LEATHER:
            reflectance = _leather(rng, shape)
        case Material.PRINT:
            reflectance = _print(rng, shape)
        case Material.PHOTO:
            reflectance = _photo(rng, shape, photo)
    return np.clip(reflectance, np.float32(0.02), np.float32(0.98))


def _fibres(rng: np.random.Generator, shape: tuple[int, int]) -> Field:
    """Randomly placed, slightly bent fibres, lighter and darker than the sheet (zero mean)."""
    height, width = shape
    count = height * width // 90
    canvas = np.full(shape, 128, np.uint8)
    start = rng.uniform((-20, -20), (width + 20, height + 20), size=(count, 2))
    angle = rng.uniform(0, np.pi, count)[:, None] + rng.normal(0, 0.25, count)[:, None] * [0, 1]
    length = rng.uniform(6, 30, count)[:, None]
    mid = start + length * np.stack([np.cos(angle[:, 0]), np.sin(angle[:, 0])], axis=1)
    end = mid + length * np.stack([np.cos(angle[:, 1]), np.sin(angle[:, 1])], axis=1)
    paths = np.round(np.stack([start, mid, end], axis=1)).astype(np.int32)
    group = rng.integers(0, 8, count)
    for g in range(8):
        level = 128 + (g - 3.5) * 16
        thickness = 1 + g % 2
        curves = list(paths[group == g].reshape(-1, 3, 1, 2))
        # anti-aliasing thick lines is slow; the blur below smooths their edges anyway
        style = cv2.LINE_AA if thickness == 1 else cv2.LINE_8
        cv2.polylines(canvas, curves, False, level, thickness, style)
    return np.asarray(cv2.GaussianBlur(canvas.astype(np.float32) - 128.0, (0, 0), 0.6) / 40.0)


def _paper(rng: np.random.Generator, shape: tuple[int, int]) -> Field:
    formation = 0.6 * gaussian_field(rng, shape, 8.0) + 0.4 * gaussian_field(rng, shape, 24.0)
    grain = gaussian_field(rng, shape, 0.8)
    return as_field(0.8 + 0.045 * formation + 0.07 * _fibres(rng, shape) + 0.03 * grain)


def _plastic(rng: np.random.Generator, shape: tuple[int, int]) -> Field:
    craters = -np.abs(gaussian_field(rng, shape, 2.5))
    height = (
        1.2 * craters
        + 2.0 * gaussian_field(rng, shape, 6.0)
        + 0.3 * gaussian_field(rng, shape, 1.0)
    )
    lit = shade(height, azimuth_deg=225.0, elevation_deg=55.0)
    glints = (rng.random(shape, dtype=np.float32) < 0.002).astype(np.float32)
    glints = cv2.GaussianBlur(glints, (0, 0), 0.7) * np.float32(4.0)
    return as_field(0.62 * lit + 0.05 * gaussian_field(rng, shape, 30.0) + glints)


def _cell_relief(rng: np.random.Generator, shape: tuple[int, int], spacing: float) -> Field:
    """Domed cells of a jittered Voronoi tessellation, sunk along wavy creases.

    Drawn at half resolution (the creases are mid-scale structure) and resized up.
    """
    height, width = (shape[0] + 1) // 2, (shape[1] + 1) // 2
    step = spacing / 2
    rows, cols = int(height / step) + 2, int(width / step) + 2
    grid = np.stack(np.meshgrid(np.arange(cols), np.arange(rows)), axis=-1).reshape(-1, 2)
    seeds = np.round((grid + rng.uniform(-0.45, 0.45, grid.shape) - 0.5) * step).astype(np.intp)
    keep = (seeds[:, 0] >= 0) & (seeds[:, 0] < width) & (seeds[:, 1] >= 0) & (seeds[:, 1] < height)
    points = np.full((height, width), 255, np.uint8)
    points[seeds[keep, 1], seeds[keep, 0]] = 0
    _, labels = cv2.distanceTransformWithLabels(
        points, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
    )
    warped = domain_warp(labels.astype(np.float32), rng, amplitude=1.2, sigma=3.0)
    labels = np.round(warped).astype(np.int32)
    border = np.zeros((height, width), np.uint8)
    border[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    border[1:, :] |= labels[1:, :] != labels[:-1, :]
    distance = cv2.distanceTransform(1 - border, cv2.DIST_L2, 3)
    domes = np.sqrt(np.minimum(distance, np.float32(3.0)))
    full = cv2.resize(domes, (2 * width, 2 * height), interpolation=cv2.INTER_LINEAR)
    return np.asarray(full[: shape[0], : shape[1]] * np.float32(2.8))


def _leather(rng: np.random.Generator, shape: tuple[int, int]) -> Field:
    pores = (rng.random(shape, dtype=np.float32) < 0.004).astype(np.float32)
    pores = cv2.GaussianBlur(pores, (0, 0), 0.9) * np.float32(-12.0)
    relief = (
        _cell_relief(rng, shape, spacing=13.0)
        + pores
        + 0.8 * gaussian_field(rng, shape, 1.2)
        + 3.0 * gaussian_field(rng, shape, 20.0)
    )
    lit = shade(relief, azimuth_deg=250.0, elevation_deg=50.0)
    return as_field(0.6 * lit + 0.04 * gaussian_field(rng, shape, 40.0))


def _print(rng: np.random.Generator, shape: tuple[int, int]) -> Field:
    tone = 0.4 + 0.12 * gaussian_field(rng, shape, 30.0) + 0.05 * gaussian_field(rng, shape, 5.0)
    cell = float(rng.uniform(4.0, 6.0))
    screen = clustered_dot_screen(
        shape, cell_px=cell, angle_deg=float(rng.uniform(0, 90)), phase=tuple(rng.random(2))
    )
    ragged = tone + np.float32(0.12) * gaussian_field(rng, shape, 0.7)
    coverage = spread(
        halftone(ragged, screen, cell_px=cell), rng, sigma=0.6, gain=2.5, roughness=0.1
    )
    scatter = (rng.random(shape, dtype=np.float32) < 0.003).astype(np.float32)
    coverage = np.maximum(coverage, cv2.GaussianBlur(scatter, (0, 0), 0.8) * np.float32(3.0))
    stock = np.float32(0.9) + np.float32(0.012) * gaussian_field(rng, shape, 1.5)
    return apply_ink(stock, np.minimum(coverage, 1.0), transmittance=0.45, scatter_px=1.0)


@lru_cache(maxsize=3)
def _photograph(source: PhotoSource) -> NDArray[np.float32]:
    """The photograph as float32 reflectance, standardised; read-only, (512, 512)."""
    from skimage import data  # slow import, kept off the engine's start-up path

    grey = getattr(data, source.value)().astype(np.float32)
    image = as_field((grey - grey.mean()) / grey.std())
    image.flags.writeable = False
    return image


def _photo(rng: np.random.Generator, shape: tuple[int, int], source: PhotoSource) -> Field:
    """A randomly rotated, flipped and scaled crop of a photograph with fresh fine detail.

    Crops of one 512×512 photograph overlap, so every item is also warped by its own
    smooth displacement field (2 px, correlated over 20 px), and about a third of its
    variance is item-unique noise at 1–15 px, partly modulating the photograph.
    """
    photo = _photograph(source)
    height, width = shape
    zoom = float(rng.uniform(2.2, 3.0))  # surface pixels per photo pixel
    angle = float(rng.uniform(0, 2 * np.pi))
    radius = 0.5 * np.hypot(height, width) / zoom
    slack = photo.shape[0] / 2 - radius - 2
    centre = photo.shape[0] / 2 + rng.uniform(-slack, slack, 2)
    flip = -1.0 if rng.random() < 0.5 else 1.0
    cos_a, sin_a = np.cos(angle) / zoom, np.sin(angle) / zoom
    # surface (x, y) -> photo (u, v), centred on both sides
    linear = np.array([[cos_a * flip, -sin_a], [sin_a * flip, cos_a]])
    offset = centre - linear @ np.array([width / 2, height / 2])
    affine = np.hstack([linear, offset[:, None]])
    crop = cv2.warpAffine(
        photo,
        affine,
        (width, height),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT,
    )
    crop = domain_warp(crop, rng, amplitude=2.0, sigma=20.0)
    detail = 0.7 * gaussian_field(rng, shape, 0.8) + 0.7 * gaussian_field(rng, shape, 2.5)
    unique = 0.6 * gaussian_field(rng, shape, 6.0)
    return as_field(0.5 + 0.12 * (crop + unique) * (1 + 0.25 * detail) + 0.04 * detail)
