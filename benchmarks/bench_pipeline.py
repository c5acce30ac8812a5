"""Extract + match speed against a reference pipeline built from the same libraries.

The reference uses the libraries plainly on the whole frame, as a first implementation
would: ``cv2.ORB_create(2000).detectAndCompute``, ``cv2.BFMatcher(NORM_HAMMING).knnMatch``
with the ratio test, ``cv2.findHomography(..., USAC_MAGSAC)``, and scikit-image's
``local_binary_pattern`` at P=8/16/24 with ``np.histogram``. Hallmark's pipeline decodes
the code, rectifies the window and describes that. Both fingerprint two captures of the
same item and compare them. Median of several runs; ratios are measured in this run.

Run: ``.venv/bin/python benchmarks/bench_pipeline.py``
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial

import cv2
import numpy as np
from skimage.feature import local_binary_pattern

import fingerprint
from fingerprint.synth import Material, Tier, capture, make_item

SIZES = {"1 MP": (1280, 800), "4 MP": (2560, 1600)}
RUNS = 7


def reference_extract(gray: np.ndarray) -> tuple[object, np.ndarray, list[np.ndarray]]:
    keypoints, descriptors = cv2.ORB_create(2000).detectAndCompute(gray, None)
    histograms = []
    for p, r in ((8, 1), (16, 2), (24, 3)):
        codes = local_binary_pattern(gray, p, r, method="uniform")
        histograms.append(np.histogram(codes, bins=p + 2, range=(0, p + 2))[0])
    return keypoints, descriptors, histograms


def reference_match(a: tuple, b: tuple) -> int:  # type: ignore[type-arg]
    (kp_a, des_a, _), (kp_b, des_b, _) = a, b
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des_b, des_a, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
    if len(good) < 4:
        return 0
    src = np.float32([kp_b[m.queryIdx].pt for m in good])
    dst = np.float32([kp_a[m.trainIdx].pt for m in good])
    _, mask = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, 3.0)
    return int(mask.sum()) if mask is not None else 0


def hallmark_pair(a: np.ndarray, b: np.ndarray) -> fingerprint.Match:
    return fingerprint.match(fingerprint.extract(a), fingerprint.extract(b))


def reference_pair(a: np.ndarray, b: np.ndarray) -> int:
    return reference_match(reference_extract(a), reference_extract(b))


def median_ms(call: Callable[[], object]) -> float:
    call()  # warm up: JIT cache, allocations
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(11)
    item = make_item(rng, Material.PAPER, 0)
    print(f"{'size':<6} {'reference ms':>13} {'hallmark ms':>12} {'speed-up':>9}")
    for label, size in SIZES.items():
        a, b = (
            cv2.cvtColor(capture(item, rng, Tier.MEDIUM, size=size), cv2.COLOR_BGR2GRAY)
            for _ in range(2)
        )
        ours = median_ms(partial(hallmark_pair, a, b))
        ref = median_ms(partial(reference_pair, a, b))
        print(f"{label:<6} {ref:>13.1f} {ours:>12.1f} {ref / ours:>8.1f}×")


if __name__ == "__main__":
    main()
