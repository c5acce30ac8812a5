"""The ``FrameSource`` seam: anything that hands out BGR frames, Qt-free.

>>> with ImageFiles([Path("a.png"), Path("b.png")]) as source:  # doctest: +SKIP
...     for frame in source:
...         print(frame.index, frame.image.shape)

A source is opened, read, and closed. ``open`` returns quickly (a network source connects
on a thread of its own and reports failures from ``read``), so a UI thread may call it and
get a missing device reported at once; ``read`` and ``close`` may block for up to the
source's timeout, so ``FrameFeed`` calls them on its worker thread. Live sources (cameras,
streams) keep only their newest frame, so a slow reader gets fresh frames rather than a
backlog; the phone keeps every upload, because each is a photo someone chose to take.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

import numpy as np
from numpy.typing import NDArray

from app.capture.errors import StreamEnded


@dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One picture from a source.

    Attributes
    ----------
    image
        BGR pixels, shape (H, W, 3), uint8; made read-only (the frame owns it).
    timestamp
        When the frame was captured or received, in ``time.monotonic()`` seconds (the
        phone server's injected clock for uploads).
    source
        ``describe()`` of the source it came from.
    index
        Position in the source's sequence, from 0; a rejected input leaves a gap.
    """

    image: NDArray[np.uint8]
    timestamp: float
    source: str
    index: int

    def __post_init__(self) -> None:
        image = self.image
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"frame image must be (H, W, 3) uint8 BGR, got {image.shape} {image.dtype}"
            )
        if image.shape[0] == 0 or image.shape[1] == 0:
            raise ValueError(f"frame image is empty: {image.shape}")
        if self.index < 0:
            raise ValueError(f"frame index must be >= 0, got {self.index}")
        image.flags.writeable = False


class FrameSource(Protocol):
    """Something that produces frames: cameras, streams, files, the phone.

    Subclass it explicitly to inherit the context manager and iteration defined here.
    """

    def describe(self) -> str:
        """A short human description, e.g. ``"video clip.avi"``; also ``Frame.source``."""
        ...

    def open(self) -> None:
        """Acquire the device, file or socket; quick, and raises ``CaptureError``.

        ``SourceNotFound`` when the device, file or URL is missing.
        """
        ...

    def read(self, timeout: float) -> Frame | None:
        """The next frame, or ``None`` when none arrived within ``timeout`` seconds.

        Raises ``StreamEnded`` after the last frame, ``FrameRejected`` for one unusable
        input (the next ``read`` goes on), and other ``CaptureError``\\ s when the source
        broke.
        """
        ...

    def close(self) -> None:
        """Release what ``open`` acquired; safe to call twice or without ``open``."""
        ...

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        """Frames until the source ends, waiting as long as it takes for each.

        Errors other than the end propagate; call ``read`` to go past a rejected input.
        """
        while True:
            try:
                frame = self.read(timeout=1.0)
            except StreamEnded:
                return
            if frame is not None:
                yield frame
