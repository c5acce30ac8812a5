"""Hologram burst analysis against the same analysis written plainly, in the same run.

Hallmark (``fingerprint.hologram.extract_hologram``): the code is decoded once,
corners on it are tracked by optical flow at a resolution where modules are 4+ px, and
each frame's homography is refined by ECC on the code's ideal picture; the maps are one
parallel Numba pass. The reference does what a first implementation would: decode the
code in every frame (zxing-cpp) and refine its homography by ECC at full resolution,
rectify each frame from full resolution, and compute the maps with plain NumPy
(``fingerprint.hologram.reference``); segmentation, moiré and liveness are the same
calls. Target of issue 5: a 30-frame 1 MP burst in ≤ 300 ms on 2 cores.

Run: ``.venv/bin/python benchmarks/bench_hologram.py``
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence

import cv2
import numpy as np
from _table import print_table
from numpy.typing import NDArray

from fingerprint.hologram import extract_hologram
from fingerprint.hologram.code_model import CodeModel, read_modules, refine
from fingerprint.hologram.liveness import Liveness, measure_liveness
from fingerprint.hologram.moire import moire_score
from fingerprint.hologram.reference import reference_maps
from fingerprint.hologram.register import camera_centres
from fingerprint.hologram.segment import segment
from fingerprint.locate import read_code
from fingerprint.region import RegionSpec
from fingerprint.synth import Tier
from fingerprint.synth.hologram import make_hologram_item
from fingerprint.synth.hologram_capture import burst

SIZE = (1280, 800)  # 1 MP
FRAMES = 30
RUNS = 5
PATCH = 128


def reference_analysis(frames: Sequence[NDArray[np.uint8]]) -> Liveness:
    """The analysis, plainly: a code read, an ECC fit and a full-resolution warp per
    frame, NumPy maps."""
    region = RegionSpec()
    patch_corners = np.array([[0, 0], [PATCH, 0], [PATCH, PATCH], [0, PATCH]], np.float32)
    to_modules = cv2.getPerspectiveTransform(patch_corners, region.corners().astype(np.float32))
    patches, cameras = [], []
    for frame in frames:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        code = read_code(gray)
        if code is None:
            continue
        cols, rows = code.modules
        modules = np.array([[0, 0], [cols, 0], [cols, rows], [0, rows]], np.float32)
        homography = cv2.getPerspectiveTransform(modules, code.corners.astype(np.float32))
        module_px = round(float(np.linalg.norm(code.corners[1] - code.corners[0])) / cols)
        model = CodeModel.draw(read_modules(gray, homography, code.modules), max(3, module_px))
        homography = refine(gray, homography, model)
        if homography is None:
            continue
        patches.append(
            cv2.warpPerspective(
                frame, homography @ to_modules, (PATCH, PATCH), flags=cv2.WARP_INVERSE_MAP
            )
        )
        cameras.append(camera_centres(homography[None], (frame.shape[1], frame.shape[0]), 0.9)[0])
    stack = np.asarray(patches, np.uint8)
    maps = reference_maps(stack, np.asarray(cameras, np.float64), region)
    return measure_liveness(maps, segment(maps.glint), moire_score(stack))


def median_ms(call: Callable[[], object]) -> float:
    call()  # warm up: JIT cache, allocations
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(5)
    frames = burst(make_hologram_item(rng, 0), rng, frames=FRAMES, tier=Tier.MEDIUM, size=SIZE)
    template = extract_hologram(frames)
    live = reference_analysis(frames)
    print(
        f"{FRAMES} frames of {SIZE[0]}×{SIZE[1]}; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}; hallmark registered "
        f"{template.frames} frames, OVD share {template.ovd_share:.2f} (reference "
        f"{live.ovd_share:.2f}), moiré {template.moire:.1f} ({live.moire:.1f})"
    )
    ours = median_ms(lambda: extract_hologram(frames))
    reference = median_ms(lambda: reference_analysis(frames))
    print_table(
        ("analysis", "reference ms", "hallmark ms", "speed-up", "target"),
        [
            (
                f"{FRAMES}-frame 1 MP burst",
                f"{reference:.0f}",
                f"{ours:.0f}",
                f"{reference / ours:.1f}×",
                "≤ 300 ms " + ("met" if ours <= 300 else "not met"),
            )
        ],
    )


if __name__ == "__main__":
    main()
