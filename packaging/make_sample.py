"""Write the self-test sample, ``resources/sample/``, from ``fingerprint.synth``.

Three 640×480 JPEG captures (EASY tier, seed 7) of a PAPER item: the enrolled capture,
a new capture of the same item, and a capture of another item printed with the same
serial (the copied-serial attack). ``hallmark selftest`` expects *genuine* for the
second and *counterfeit* for the third. Run from the repository root::

    .venv/bin/python packaging/make_sample.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from app.selftest import COPIED_SERIAL, REFERENCE, SAME_ITEM
from fingerprint.synth import Material, Tier, capture_jpeg, copied_serial, make_item

SEED = 7
SIZE = (640, 480)


def main(out: Path) -> int:
    rng = np.random.default_rng(SEED)
    item = make_item(rng, Material.PAPER, 7)
    captures = {
        REFERENCE: capture_jpeg(item, rng, Tier.EASY, SIZE),
        SAME_ITEM: capture_jpeg(item, rng, Tier.EASY, SIZE),
        COPIED_SERIAL: capture_jpeg(copied_serial(item, rng), rng, Tier.EASY, SIZE),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, data in captures.items():
        (out / name).write_bytes(data)
        print(f"wrote {out / name} ({len(data) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parents[1] / "resources" / "sample"))
