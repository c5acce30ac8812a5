"""Camera geometry and optics: where the label lands in the frame, and how it is blurred."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.synth.fields import Field, as_field

#: Focal length of the simulated camera, in units of the frame width (about 60° across).
_FOCAL_PER_WIDTH = 0.9
#: The label keeps at least this many pixels from the frame's edges.
MARGIN_PX = 8


def project(points: NDArray[np.float64], homography: NDArray[np.float64]) -> NDArray[np.float64]:
    """Apply a 3×3 ``homography`` to points of shape (N, 2); returns shape (N, 2)."""
    mapped = np.c_[points, np.ones(len(points))] @ homography.T
    return np.asarray(mapped[:, :2] / mapped[:, 2:3])


def surface_corners(shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Outer corners of an image of ``shape`` (pixel centres at integers), shape (4, 2)."""
    height, width = shape[:2]
    return np.array(
        [[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5], [-0.5, height - 0.5]]
    )


def _rotation(axis: NDArray[np.float64], angle_deg: float) -> NDArray[np.float64]:
    """Rotation matrix about a unit ``axis`` (Rodrigues' formula)."""
    angle = np.deg2rad(angle_deg)
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.asarray(np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross)


def pinhole(
    *,
    magnification: float,
    rotation_deg: float,
    tilt_deg: float,
    tilt_axis_deg: float,
    surface_shape: tuple[int, ...],
    size: tuple[int, int],
) -> NDArray[np.float64]:
    """Surface→frame homography of a pinhole camera looking at the label's centre.

    The label is spun by ``rotation_deg`` in its plane, tilted by ``tilt_deg`` about an
    in-plane axis at ``tilt_axis_deg`` and placed on the optical axis at the distance
    where one surface pixel at its centre spans ``magnification`` frame pixels.

    Returns
    -------
    NDArray[np.float64]
        Shape (3, 3): ``K · [r1 r2 t] · C`` with intrinsics ``K``, pose ``[r1 r2 t]``
        and ``C`` moving the surface's centre to the origin.

    References
    ----------
    R. Hartley and A. Zisserman, *Multiple View Geometry in Computer Vision*, 2nd ed.,
    2004, §8.1 (homography induced by a plane).
    """
    width, height = size
    focal = _FOCAL_PER_WIDTH * width
    axis = np.deg2rad(tilt_axis_deg)
    pose = _rotation(np.array([np.cos(axis), np.sin(axis), 0.0]), tilt_deg) @ _rotation(
        np.array([0.0, 0.0, 1.0]), rotation_deg
    )
    extrinsic = np.c_[pose[:, :2], [0.0, 0.0, focal / magnification]]
    intrinsic = np.array([[focal, 0, (width - 1) / 2], [0, focal, (height - 1) / 2], [0, 0, 1]])
    surface_h, surface_w = surface_shape[:2]
    centre = np.array([[1, 0, -(surface_w - 1) / 2], [0, 1, -(surface_h - 1) / 2], [0, 0, 1]])
    return np.asarray(intrinsic @ extrinsic @ centre)


def fit_in_frame(
    homography: NDArray[np.float64],
    *,
    surface_shape: tuple[int, ...],
    size: tuple[int, int],
    placement: tuple[float, float],
) -> NDArray[np.float64] | None:
    """``homography`` followed by the shift that puts the label at ``placement``.

    ``placement`` (x, y) in [0, 1] chooses where in the room the frame leaves it the
    label's bounding box goes, keeping ``MARGIN_PX`` from every edge. Returns None when
    the label is too large for the frame.
    """
    width, height = size
    room = np.array([width - 2 * MARGIN_PX, height - 2 * MARGIN_PX], dtype=np.float64)
    corners = project(surface_corners(surface_shape), homography)
    low, extent = corners.min(axis=0), np.ptp(corners, axis=0)
    if np.any(extent > room):
        return None
    offset = MARGIN_PX + np.asarray(placement) * (room - extent) - low
    return np.asarray(np.array([[1, 0, offset[0]], [0, 1, offset[1]], [0, 0, 1]]) @ homography)


def local_rate(homography: NDArray[np.float64], point: NDArray[np.float64]) -> float:
    """Frame pixels per surface pixel near ``point`` (x, y): √|det J| of the homography."""
    step = project(point + np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), homography)
    jacobian = np.c_[step[1] - step[0], step[2] - step[0]]
    return float(np.sqrt(abs(np.linalg.det(jacobian))))


def antialiased(surface: NDArray[np.uint8], rate: float) -> NDArray[np.uint8]:
    """The surface pre-filtered for sampling at ``rate`` frame pixels per surface pixel.

    A Gaussian of width ``0.5·√(1/rate² − 1)`` surface pixels widens the surface pixel's
    footprint (σ ≈ 0.5 px) to that of a frame pixel, so bilinear resampling afterwards
    neither aliases nor depends on the sampling phase. Returns ``surface`` itself when
    no filtering is needed (``rate`` ≥ 1).
    """
    sigma = 0.5 * np.sqrt(max(0.0, 1 / rate**2 - 1))
    if sigma == 0:
        return surface
    return np.asarray(cv2.GaussianBlur(surface, (0, 0), sigma), dtype=np.uint8)


def label_coverage(corners: NDArray[np.float64], size: tuple[int, int]) -> Field:
    """Anti-aliased coverage of the quadrilateral ``corners`` (N, 2) in a (width, height) frame."""
    subpixel = 4  # fractional bits of the vertex coordinates
    canvas = np.zeros((size[1], size[0]), np.uint8)
    vertices = np.rint(corners * (1 << subpixel)).astype(np.int32)
    cv2.fillConvexPoly(canvas, vertices, 255, cv2.LINE_AA, subpixel)
    return as_field(canvas) * np.float32(1 / 255)


def point_spread(
    *, defocus_px: float, motion_px: float, motion_angle_deg: float
) -> NDArray[np.float32]:
    """Point-spread function: a defocus disc convolved with a linear motion path.

    Parameters
    ----------
    defocus_px : float
        Radius of the circle of confusion, frame pixels (anti-aliased edge).
    motion_px, motion_angle_deg : float
        Length and direction of the motion during the exposure.

    Returns
    -------
    NDArray[np.float32]
        Odd square kernel summing to 1.

    References
    ----------
    M. Potmesil and I. Chakravarty, "A lens and aperture camera model for synthetic
    image generation", SIGGRAPH 1981 (defocus disc).
    """
    half = int(np.ceil(defocus_px + motion_px / 2)) + 1
    offsets = np.arange(-half, half + 1, dtype=np.float32)
    distance = np.hypot(offsets[:, None], offsets[None, :])
    disc = np.clip(np.float32(defocus_px + 0.5) - distance, 0, 1)
    angle = np.deg2rad(motion_angle_deg)
    steps = np.linspace(-motion_px / 2, motion_px / 2, max(2, int(np.ceil(4 * motion_px)) + 1))
    path = np.zeros_like(disc)
    for x, y in zip(steps * np.cos(angle) + half, steps * np.sin(angle) + half, strict=True):
        col, row = int(np.floor(x)), int(np.floor(y))
        fx, fy = np.float32(x - col), np.float32(y - row)
        path[row : row + 2, col : col + 2] += np.array(
            [[(1 - fx) * (1 - fy), fx * (1 - fy)], [(1 - fx) * fy, fx * fy]], np.float32
        )
    kernel = cv2.filter2D(disc, -1, path / path.sum(), borderType=cv2.BORDER_CONSTANT)
    return np.asarray(kernel / kernel.sum(), dtype=np.float32)
