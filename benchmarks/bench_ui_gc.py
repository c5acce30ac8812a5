"""The UI thread while the engine warms up: collecting on it (`app.ui.ui_thread_gc`) vs
Python's automatic collector, which runs on whichever thread allocates.

Each mode runs in a child process of its own with an empty Numba cache, so the warm-up
(`app.selftest.run`, as the main window starts it) compiles every kernel on a worker
thread, the heaviest allocating the app does. A 10 ms timer on the UI thread records how
late each tick comes: what a user sees as the window freezing, whichever thread holds
the GIL. ``gc.callbacks`` count the collections run on each thread. The reference is the
automatic collector, measured in the same run. Nothing is asserted.

Run: ``.venv/bin/python benchmarks/bench_ui_gc.py``
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))
from _table import print_table

TICK_MS = 10
MODES = ("automatic", "ui-thread")


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    seconds: float
    worst_ms: float
    """The latest a UI tick came."""
    p99_ms: float
    collections: dict[str, int]
    """Collections run, by thread name."""


def measure(mode: str) -> Result:
    """Warm the engine on a worker thread with the UI thread's event loop running."""
    from app.ui.refcounts import pin_singletons

    pin_singletons()
    from PySide6.QtCore import QCoreApplication, QTimer

    from app.selftest import run
    from app.ui.ui_thread_gc import UiThreadCollector

    app = QCoreApplication([])
    if mode == "ui-thread":
        UiThreadCollector(app)
    threads: Counter[str] = Counter()
    gc.callbacks.append(
        lambda phase, _info: phase == "start" and threads.update([threading.current_thread().name])
    )
    lateness: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        lateness.append(max(0.0, (now - last[0]) * 1000 - TICK_MS))
        last[0] = now
        if not worker.is_alive():
            app.quit()

    worker = threading.Thread(target=run, name="warm-up")
    ticker = QTimer(interval=TICK_MS)
    ticker.timeout.connect(tick)
    start = time.perf_counter()
    worker.start()
    ticker.start()
    app.exec()
    lateness.sort()
    return Result(
        seconds=time.perf_counter() - start,
        worst_ms=lateness[-1],
        p99_ms=lateness[int(0.99 * (len(lateness) - 1))],
        collections=dict(threads),
    )


def child(mode: str) -> Result:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "QT_QPA_PLATFORM": "offscreen"}
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return Result(**json.loads(out.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(asdict(measure(args.child))))
        return
    results = {mode: child(mode) for mode in MODES}
    reference = results["automatic"].worst_ms
    print(f"cold warm-up on a worker thread; {os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    print_table(
        (
            "collector",
            "warm-up s",
            "UI worst late ms",
            "UI p99 late ms",
            "worst vs automatic",
            "collections by thread",
        ),
        [
            (
                mode,
                f"{r.seconds:.1f}",
                f"{r.worst_ms:.0f}",
                f"{r.p99_ms:.0f}",
                f"{reference / r.worst_ms:.2f}×",
                ", ".join(f"{name} {n}" for name, n in sorted(r.collections.items())),
            )
            for mode, r in results.items()
        ],
    )


if __name__ == "__main__":
    main()
