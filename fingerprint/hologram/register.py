"""Register a tilt burst: where the item's code frame lies in every frame, and how it is tilted.

1. The item's code is decoded once (:func:`fingerprint.locate.read_code`, tried on the
   middle, first and last frames); its corners and module count give the homography
   from code-module units to that reference frame.
2. Corners on the code and its quiet zone (printed, so they look the same at every
   angle, unlike the foil) are tracked frame to frame by pyramidal Lucas–Kanade optical
   flow with a forward–backward check (Bouguet 2001; Kalal et al. 2010), and a
   homography per frame is fitted to them by MAGSAC++. Lost corners are replaced.
   The reference frame's homography, where tracking starts, is first refined to
   sub-pixel precision on the code's ideal picture
   (:mod:`fingerprint.hologram.code_model`), so that no burst carries zxing-cpp's corner
   error into the window: on synthetic bursts the window's corners moved from up to
   8.6 patch px (0.5–3 typical) off to within 0.4 px. Refining every frame as well
   changed nothing measurable (identity d′ 7.45 against 7.50) and cost 100 ms a burst.
3. Each frame's window (the ``RegionSpec`` square) is rectified to an (S, S) colour
   patch, and the homography is decomposed with an assumed pinhole camera (focal length
   ``focal_per_width`` × frame width, principal point at the centre) into the direction
   from the window to the camera, in the label's own frame (Zhang 2000, §3.1;
   Hartley & Zisserman 2004, §8.1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram.code_model import CodeModel, read_modules, refine
from fingerprint.hologram.params import RegistrationParams
from fingerprint.locate import ItemCode, read_code
from fingerprint.region import RegionSpec

Frame = NDArray[np.uint8]
_QUIET_MODULES = 1.5
_WINDOW = (15, 15)
_LEVELS = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class Registration:
    """A registered burst.

    ``patches`` (N, S, S, 3) uint8 BGR: the window of every registered frame;
    ``cameras`` (N, 3): the camera centre in the code's module frame (x along the code's
    top edge, y down its left edge, z away from the camera); ``frames`` (N,): index of
    each registered frame in the burst; ``module_px``: the code's module size in pixels
    of the reference frame; ``code``: the decoded code, or None when none was found (then
    nothing is registered).
    """

    patches: NDArray[np.uint8] = field(repr=False)
    cameras: NDArray[np.float64] = field(repr=False)
    frames: NDArray[np.int64]
    module_px: float
    code: ItemCode | None
    region: RegionSpec

    def __post_init__(self) -> None:
        for array in (self.patches, self.cameras, self.frames):
            array.flags.writeable = False

    @property
    def tilts(self) -> NDArray[np.float64]:
        """(N, 2) tangential part of the unit vector from the window's centre to the camera.

        Its length is the sine of the viewing angle off the normal, its direction the
        direction of the tilt, in the code's module frame.
        """
        centre = np.array(
            [self.region.x + self.region.width / 2, self.region.y + self.region.height / 2, 0.0]
        )
        towards = self.cameras - centre
        unit = towards / np.linalg.norm(towards, axis=1, keepdims=True)
        return np.asarray(unit[:, :2], np.float64)


def register(
    frames: Sequence[Frame],
    region: RegionSpec = RegionSpec(),
    params: RegistrationParams = RegistrationParams(),
) -> Registration:
    """Register ``frames`` (BGR uint8, one size) to the code frame of the item in view."""
    found = _reference(frames)
    if found is None:
        return _empty(params.patch_size, region)
    ref_index, code = found
    cols, rows = code.modules
    modules = np.array([[0, 0], [cols, 0], [cols, rows], [0, rows]], np.float64)
    to_ref = _perspective(modules, code.corners)
    module_px = float(np.sqrt(cv2.contourArea(code.corners.astype(np.float32)) / (cols * rows)))
    levels = 0
    while module_px / 2 ** (levels + 1) >= params.min_track_module_px:
        levels += 1
    crop = _Crop.around(frames[ref_index], _outline(to_ref, code.modules), levels)
    dark = read_modules(crop.gray, crop.matrix @ to_ref, code.modules)
    model = CodeModel.draw(dark, max(3, round(module_px * crop.scale)))
    to_ref = _refined(crop, to_ref, model)
    homographies = _track(frames, ref_index, to_ref, code.modules, levels, params)
    kept = [i for i, h in enumerate(homographies) if h is not None]
    patch_to_modules = _perspective(
        np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float64) * params.patch_size,
        region.corners(),
    )
    height, width = frames[0].shape[:2]
    patches = np.empty((len(kept), params.patch_size, params.patch_size, 3), np.uint8)
    for slot, index in enumerate(kept):
        homography = homographies[index]
        assert homography is not None
        patches[slot] = _rectify(frames[index], homography @ patch_to_modules, params.patch_size)
    stack = np.array([homographies[i] for i in kept], np.float64).reshape(-1, 3, 3)
    return Registration(
        patches=patches,
        cameras=camera_centres(stack, (width, height), params.focal_per_width),
        frames=np.asarray(kept, np.int64),
        module_px=module_px,
        code=code,
        region=region,
    )


def camera_centres(
    homographies: NDArray[np.float64], size: tuple[int, int], focal_per_width: float
) -> NDArray[np.float64]:
    """Camera centres (N, 3) in the plane's frame, from plane→image ``homographies`` (N, 3, 3).

    ``K⁻¹H = λ[r1 r2 t]``: λ from the mean length of the first two columns, its sign
    such that the plane lies in front of the camera; ``R`` orthonormalised by SVD; the
    centre is ``−Rᵀt``.
    """
    width, height = size
    focal = focal_per_width * width
    inverse = np.linalg.inv(
        np.array([[focal, 0, (width - 1) / 2], [0, focal, (height - 1) / 2], [0, 0, 1]])
    )
    a = inverse @ homographies
    scale = 2.0 / (np.linalg.norm(a[:, :, 0], axis=1) + np.linalg.norm(a[:, :, 1], axis=1))
    scale = np.where(a[:, 2, 2] < 0, -scale, scale)[:, None]
    r1, r2, t = a[:, :, 0] * scale, a[:, :, 1] * scale, a[:, :, 2] * scale
    u, _, vt = np.linalg.svd(np.stack([r1, r2, np.cross(r1, r2)], axis=2))
    rotation = u @ vt
    return np.asarray(-np.einsum("nji,nj->ni", rotation, t), np.float64)


def _reference(frames: Sequence[Frame]) -> tuple[int, ItemCode] | None:
    """The first of the middle, first and last frames whose code decodes."""
    for index in dict.fromkeys((len(frames) // 2, 0, len(frames) - 1)):
        code = read_code(np.asarray(cv2.cvtColor(frames[index], cv2.COLOR_BGR2GRAY), np.uint8))
        if code is not None:
            return index, code
    return None


@dataclass(frozen=True, slots=True)
class _Crop:
    """A box of a frame around the code, in grey, halved ``levels`` times.

    Tracking only looks at the code and its quiet zone, so only that part of a frame,
    grown by 30% of its size for the motion to the next frame, is converted and searched.
    """

    gray: Frame
    x0: int
    y0: int
    scale: float

    @classmethod
    def around(cls, frame: Frame, outline: NDArray[np.float64], levels: int) -> _Crop:
        low, high = outline.min(axis=0), outline.max(axis=0)
        grow = 0.3 * float(np.max(high - low))
        height, width = frame.shape[:2]
        x0, y0 = (max(0, int(v - grow)) for v in low)
        x1, y1 = min(width, int(high[0] + grow) + 1), min(height, int(high[1] + grow) + 1)
        gray = np.asarray(cv2.cvtColor(frame[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY), np.uint8)
        for _ in range(levels):
            gray = np.asarray(cv2.pyrDown(gray), np.uint8)
        return cls(gray=gray, x0=x0, y0=y0, scale=0.5**levels)

    @property
    def matrix(self) -> NDArray[np.float64]:
        """Homography (3, 3) from frame pixels to crop pixels."""
        s = self.scale
        return np.array([[s, 0.0, -s * self.x0], [0.0, s, -s * self.y0], [0.0, 0.0, 1.0]])

    def inward(self, points: NDArray[np.float32]) -> NDArray[np.float32]:
        return ((points - [self.x0, self.y0]) * self.scale).astype(np.float32)

    def outward(self, points: NDArray[np.float32]) -> NDArray[np.float32]:
        return (points / self.scale + [self.x0, self.y0]).astype(np.float32)


def _outline(homography: NDArray[np.float64], modules: tuple[int, int]) -> NDArray[np.float64]:
    """Image corners of the code grown by its quiet zone, (4, 2)."""
    cols, rows = modules
    q = _QUIET_MODULES
    corners = np.array([[-q, -q], [cols + q, -q], [cols + q, rows + q], [-q, rows + q]])
    return np.asarray(
        cv2.perspectiveTransform(corners.reshape(-1, 1, 2), homography).reshape(-1, 2), np.float64
    )


def _track(
    frames: Sequence[Frame],
    ref_index: int,
    to_ref: NDArray[np.float64],
    modules: tuple[int, int],
    levels: int,
    params: RegistrationParams,
) -> list[NDArray[np.float64] | None]:
    """Module→frame homography of every frame (None where tracking failed)."""
    out: list[NDArray[np.float64] | None] = [None] * len(frames)
    out[ref_index] = to_ref
    for step in (1, -1):
        homography = to_ref
        points = anchors = np.zeros((0, 2), np.float32)
        index = ref_index + step
        while 0 <= index < len(frames):
            outline = _outline(homography, modules)
            before = _Crop.around(frames[index - step], outline, levels)
            after = dataclasses.replace(
                before, gray=_Crop.around(frames[index], outline, levels).gray
            )
            if len(points) < params.min_points:
                points, anchors = _seed(before, outline, homography, params)
            points, anchors = _flow(before, after, points, anchors, params)
            found = _fit(anchors, points, params) if len(points) >= params.min_points else None
            if found is None:
                break  # lost: the frames beyond are not registered either
            homography = found
            out[index] = homography
            index += step
    return out


def _seed(
    crop: _Crop,
    outline: NDArray[np.float64],
    homography: NDArray[np.float64],
    params: RegistrationParams,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Corners on the code and its quiet zone (image coordinates), with their module coordinates."""
    mask = np.zeros(crop.gray.shape, np.uint8)
    polygon = crop.inward(outline.astype(np.float32))
    cv2.fillConvexPoly(mask, np.rint(polygon).astype(np.int32), 255)
    found = cv2.goodFeaturesToTrack(
        crop.gray, params.max_points, qualityLevel=0.01, minDistance=4, mask=mask, blockSize=5
    )
    if found is None:
        empty = np.zeros((0, 2), np.float32)
        return empty, empty
    points = crop.outward(found.reshape(-1, 2).astype(np.float32))
    anchors = cv2.perspectiveTransform(points.reshape(-1, 1, 2), np.linalg.inv(homography))
    return points, anchors.reshape(-1, 2).astype(np.float32)


def _flow(
    before: _Crop,
    after: _Crop,
    points: NDArray[np.float32],
    anchors: NDArray[np.float32],
    params: RegistrationParams,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Track ``points`` (image coordinates) from one crop into the next, same box; keep
    those that come back to where they started."""
    if len(points) == 0:
        return points, anchors
    start = before.inward(points)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)
    ahead, ok1, _ = cv2.calcOpticalFlowPyrLK(
        before.gray, after.gray, start, None, winSize=_WINDOW, maxLevel=_LEVELS, criteria=criteria
    )
    back, ok2, _ = cv2.calcOpticalFlowPyrLK(
        after.gray, before.gray, ahead, None, winSize=_WINDOW, maxLevel=_LEVELS, criteria=criteria
    )
    error = np.linalg.norm(back - start, axis=1) / before.scale
    good = (ok1.ravel() == 1) & (ok2.ravel() == 1) & (error < params.max_fb_error_px)
    return after.outward(ahead[good]), anchors[good]


def _refined(crop: _Crop, homography: NDArray[np.float64], model: CodeModel) -> NDArray[np.float64]:
    """``homography`` (module→frame) refined on the code's ideal picture, if ECC converges."""
    refined = refine(crop.gray, crop.matrix @ homography, model)
    return homography if refined is None else np.linalg.inv(crop.matrix) @ refined


def _fit(
    anchors: NDArray[np.float32], points: NDArray[np.float32], params: RegistrationParams
) -> NDArray[np.float64] | None:
    homography, mask = cv2.findHomography(anchors, points, cv2.USAC_MAGSAC, 1.5)
    if homography is None or mask is None or int(mask.sum()) < params.min_points:
        return None
    return np.asarray(homography, np.float64)


def _rectify(frame: Frame, patch_to_image: NDArray[np.float64], size: int) -> NDArray[np.uint8]:
    """Sample the window; halve the frame first while the window is over twice the patch."""
    corners = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float64)
    placed = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), patch_to_image).reshape(-1, 2)
    side = float(np.sqrt(cv2.contourArea(placed.astype(np.float32))))
    source, scale = frame, np.eye(3)
    while side * scale[0, 0] > 2 * size and min(source.shape[:2]) > 64:
        source = cv2.pyrDown(source)
        scale = np.diag([0.5, 0.5, 1.0]) @ scale
    patch = cv2.warpPerspective(
        source,
        scale @ patch_to_image,
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(patch, np.uint8)


def _perspective(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(
        cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)), np.float64
    )


def _empty(size: int, region: RegionSpec) -> Registration:
    return Registration(
        patches=np.zeros((0, size, size, 3), np.uint8),
        cameras=np.zeros((0, 3), np.float64),
        frames=np.zeros(0, np.int64),
        module_px=0.0,
        code=None,
        region=region,
    )
