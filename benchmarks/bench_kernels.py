"""Speed of the fingerprint kernels against the libraries they replace.

- Uniform LBP at P=8/R=1, P=16/R=2, P=24/R=3: ``skimage.feature.local_binary_pattern``
  (+ ``np.histogram``) against ``fingerprint.lbp.uniform_lbp`` (+ ``lbp_histograms``,
  which counts per 250-pixel grid cell), on ``skimage.data.astronaut()`` in grey resized
  to 1 MP and 4 MP. The codes are checked to be equal.
- Descriptor matching on ``cv2.ORB_create(2000)`` descriptors of that image and of a
  turned, scaled copy: ``cv2.BFMatcher(NORM_HAMMING).knnMatch(k=2)`` plus a separate
  ``crossCheck=True`` matcher (the two calls only, no Python post-processing) against
  ``fingerprint.hamming.match_descriptors``, which does both and the ratio test. The
  kept matches are checked to be equal.
- JIT cost: a fresh interpreter with ``NUMBA_CACHE_DIR`` set to an empty directory
  compiles each kernel on its first call; a second one loads them from that cache.

Times are the median of several runs in this process, speed-ups are measured in the same
run; nothing is asserted. Other load on the machine shows in the reported load average.

Run: ``.venv/bin/python benchmarks/bench_kernels.py [--runs N]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numba
import numpy as np
import skimage.data
from _table import print_table as markdown_table
from numpy.typing import NDArray
from skimage.feature import local_binary_pattern

from fingerprint.hamming import match_descriptors
from fingerprint.lbp import DEFAULT_SCALES, lbp_histograms, uniform_lbp

SIZES = {"1 MP": (1000, 1000), "4 MP": (2000, 2000)}
CELL = 250  # grid cell side for lbp_histograms: 62,500 pixels fit uint16 counts
RATIO = 0.8

# Run in a fresh interpreter: time the import, Numba's own one-time start-up (paid by
# whatever jitted function runs first, cached or not), then each kernel's first call.
FIRST_CALLS = """
import json, time
start = time.perf_counter()
import numba
import numpy as np
from fingerprint.hamming import match_descriptors
from fingerprint.lbp import lbp_histograms, uniform_lbp
times = {"import fingerprint.lbp, fingerprint.hamming": time.perf_counter() - start}
start = time.perf_counter()
numba.njit(lambda: 0)()
times["numba start-up, compiling a no-op"] = time.perf_counter() - start
image = np.arange(64, dtype=np.uint8).reshape(8, 8)
descriptors = np.arange(64, dtype=np.uint8).reshape(2, 32)
for name, call in [
    ("uniform_lbp", lambda: uniform_lbp(image, 8, 1.0)),
    ("lbp_histograms", lambda: lbp_histograms(image, grid=(2, 2))),
    ("match_descriptors", lambda: match_descriptors(descriptors, descriptors)),
]:
    start = time.perf_counter()
    call()
    times[name] = time.perf_counter() - start
print(json.dumps(times))
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    size: str
    operation: str
    reference: str
    reference_ms: float
    ours: str
    ours_ms: float
    check: str


def median_ms(call: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def astronaut(size: tuple[int, int]) -> NDArray[np.uint8]:
    grey = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)
    resized: NDArray[np.uint8] = cv2.resize(grey, size, interpolation=cv2.INTER_CUBIC)
    return resized


def lbp_rows(size: str, image: NDArray[np.uint8], runs: int) -> list[Row]:
    grid = (image.shape[0] // CELL, image.shape[1] // CELL)
    rows = []
    for P, R in DEFAULT_SCALES:
        ref_lbp, ref_total = [], []
        for _ in range(runs):
            start = time.perf_counter()
            codes = local_binary_pattern(image, P, R, method="uniform")
            middle = time.perf_counter()
            np.histogram(codes, bins=P + 2, range=(0, P + 2))
            ref_lbp.append(middle - start)
            ref_total.append(time.perf_counter() - start)
        exact = np.array_equal(uniform_lbp(image, P, R), codes)
        scale = f"P={P},R={R:g}"
        rows.append(
            Row(
                size=size,
                operation=f"LBP codes {scale}",
                reference="skimage local_binary_pattern",
                reference_ms=1000 * statistics.median(ref_lbp),
                ours="uniform_lbp",
                ours_ms=median_ms(lambda P=P, R=R: uniform_lbp(image, P, R), runs),
                check="bit-exact" if exact else "DIFFERENT",
            )
        )
        rows.append(
            Row(
                size=size,
                operation=f"LBP + histogram {scale}",
                reference="skimage + np.histogram",
                reference_ms=1000 * statistics.median(ref_total),
                ours=f"lbp_histograms grid {grid[0]}x{grid[1]}",
                ours_ms=median_ms(
                    lambda P=P, R=R: lbp_histograms(image, scales=((P, R),), grid=grid), runs
                ),
                check="",
            )
        )
    rows.append(
        Row(
            size=size,
            operation="LBP + histograms, 3 scales",
            reference="sum of the 3 rows above",
            reference_ms=sum(r.reference_ms for r in rows if r.operation.startswith("LBP +")),
            ours=f"lbp_histograms grid {grid[0]}x{grid[1]}",
            ours_ms=median_ms(lambda: lbp_histograms(image, grid=grid), runs),
            check="",
        )
    )
    return rows


def opencv_matches(query: NDArray[np.uint8], train: NDArray[np.uint8]) -> list[tuple[int, int]]:
    knn = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query, train, k=2)
    cross = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(query, train)
    cross_train = {m.queryIdx: m.trainIdx for m in cross}
    return sorted(
        (p[0].queryIdx, p[0].trainIdx)
        for p in knn
        if (len(p) == 1 or p[0].distance < RATIO * p[1].distance)
        and cross_train.get(p[0].queryIdx) == p[0].trainIdx
    )


def matcher_row(size: str, image: NDArray[np.uint8], runs: int) -> Row:
    height, width = image.shape
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), 10, 1.1)
    turned = cv2.warpAffine(image, turn, (width, height))
    orb = cv2.ORB_create(2000)
    _, query = orb.detectAndCompute(image, None)
    _, train = orb.detectAndCompute(turned, None)
    knn = cv2.BFMatcher(cv2.NORM_HAMMING)
    cross = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True)

    def reference() -> None:
        knn.knnMatch(query, train, k=2)
        cross.match(query, train)

    q_idx, t_idx, _ = match_descriptors(query, train, RATIO)
    ours = list(zip(q_idx.tolist(), t_idx.tolist(), strict=True))
    same = ours == opencv_matches(query, train)
    return Row(
        size=size,
        operation=f"match {len(query)}x{len(train)} ORB",
        reference="BFMatcher knn k=2 + crossCheck",
        reference_ms=median_ms(reference, runs),
        ours="match_descriptors",
        ours_ms=median_ms(lambda: match_descriptors(query, train, RATIO), runs),
        check=f"{len(ours)} matches, {'same' if same else 'DIFFERENT'}",
    )


def first_calls(cache_dir: str) -> dict[str, float]:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CALLS], env=env, capture_output=True, text=True, check=True
    )
    times: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return times


def print_table(rows: list[Row]) -> None:
    header = ("size", "operation", "reference", "ms", "hallmark", "ms", "speed-up", "check")
    lines = [
        (
            r.size,
            r.operation,
            r.reference,
            f"{r.reference_ms:.1f}",
            r.ours,
            f"{r.ours_ms:.1f}",
            f"{r.reference_ms / r.ours_ms:.1f}x",
            r.check,
        )
        for r in rows
    ]
    markdown_table(header, lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per operation")
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
        cold = first_calls(cache_dir)
        cached = first_calls(cache_dir)
    print("JIT cost, fresh interpreter (s):")
    print(f"| {'step':<44} | cold cache (compile) | warm cache (load) |")
    for step, seconds in cold.items():
        print(f"| {step:<44} | {seconds:20.3f} | {cached[step]:17.3f} |")
    print()

    # Warm this process's kernels (from the default cache) before timing.
    uniform_lbp(np.zeros((8, 8), dtype=np.uint8), 8, 1.0)
    lbp_histograms(np.zeros((8, 8), dtype=np.uint8), grid=(2, 2))
    match_descriptors(np.zeros((2, 32), dtype=np.uint8), np.zeros((2, 32), dtype=np.uint8))

    rows: list[Row] = []
    for size, shape in SIZES.items():
        image = astronaut(shape)
        rows += lbp_rows(size, image, runs)
        rows.append(matcher_row(size, image, runs))
    print(
        f"Median of {runs} runs; numba {numba.__version__} on {numba.get_num_threads()} "
        f"threads ({numba.threading_layer()}), OpenCV {cv2.__version__} on "
        f"{cv2.getNumThreads()} threads; load average {os.getloadavg()[0]:.2f}."
    )
    print_table(rows)


if __name__ == "__main__":
    main()
