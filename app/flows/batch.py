"""Fingerprint and match many images at once, on all cores, with progress."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

import fingerprint
from fingerprint import FingerprintError, Template

T = TypeVar("T")
R = TypeVar("R")


def parallel_map(
    call: Callable[[T], R],
    items: Sequence[T],
    *,
    label: str,
    unit: str,
    workers: int | None = None,
) -> list[R]:
    """``[call(x) for x in items]`` on a thread pool, with a progress bar on a terminal.

    OpenCV, zxing-cpp and the Numba kernels release the GIL, so threads use every core
    without copying images between processes.
    """
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results: Iterable[R] = pool.map(call, items)
        bar = tqdm(
            results, total=len(items), desc=label, unit=unit, disable=not sys.stderr.isatty()
        )
        return list(bar)


def extract_all(
    paths: Sequence[Path], *, workers: int | None = None
) -> dict[Path, Template | FingerprintError]:
    """Fingerprint each distinct path once; a failure is kept as its error, not raised."""
    unique = list(dict.fromkeys(paths))

    def one(path: Path) -> Template | FingerprintError:
        try:
            return fingerprint.extract(path)
        except FingerprintError as exc:
            return exc

    results = parallel_map(one, unique, label="fingerprinting", unit="img", workers=workers)
    return dict(zip(unique, results, strict=True))
