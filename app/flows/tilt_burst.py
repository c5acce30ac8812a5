"""Recording a tilt burst from a live source, and knowing when it is complete.

A camera, a played video or a phone hands over more frames than a burst holds (10–60,
`fingerprint.hologram.params.BurstParams`). `BurstRecorder` keeps the frames the burst
can use — one item's code in view, all of the first kept frame's size — up to the
burst's maximum, and says when to stop: once the frames cover enough of the tilt circle
(`fingerprint.hologram.tilt_coverage`) and are enough in number, or once the burst is
full. It also tells when another item's code comes into view: the user has moved on,
and the caller starts a new burst, so two items' frames never mix. How often frames
arrive is the caller's (the capture panel analyses at most ``ANALYSIS_RATE`` a second),
so a burst held still for 60 frames fills and is judged *retake* for its missing angles
instead of recording forever.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fingerprint.hologram import TiltCoverage
from fingerprint.hologram.params import BurstParams

Seen = tuple[str | None, str]
"""An item as read from its code: (GTIN or None, serial)."""


@dataclass(slots=True, kw_only=True)
class BurstRecorder:
    """The frames of one burst being recorded; `skipped` counts frames it could not use."""

    params: BurstParams = BurstParams()
    frames: list[NDArray[np.uint8]] = field(default_factory=list)
    skipped: int = 0
    item: Seen | None = None
    """The (GTIN, serial) read from the kept frames' code."""

    def offer(self, image: NDArray[np.uint8], *, item: Seen | None) -> bool:
        """Keep ``image`` if the burst can use it (its code was read as ``item``, the
        burst's item, it has the burst's size, the burst is not full); whether it was
        kept."""
        if self.full:
            return False
        if (
            item is None
            or self.is_another_item(item)
            or (self.frames and image.shape != self.frames[0].shape)
        ):
            self.skipped += 1
            return False
        self.item = item
        self.frames.append(image)
        return True

    def is_another_item(self, item: Seen | None) -> bool:
        """Whether ``item``'s code differs from the one the kept frames show."""
        return bool(self.frames) and item is not None and item != self.item

    @property
    def full(self) -> bool:
        return len(self.frames) >= self.params.max_frames

    def done(self, coverage: TiltCoverage, counted: int) -> bool:
        """Whether to stop, given the ``coverage`` of the first ``counted`` frames kept."""
        return self.full or (coverage.complete and counted >= self.params.min_frames)
