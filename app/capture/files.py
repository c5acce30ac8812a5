"""``ImageFiles``: a list of image files, or a folder of them, as a frame source."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from app.capture.decode import decode_image
from app.capture.errors import SourceNotFound, StreamEnded
from app.capture.source import Frame, FrameSource

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"})
"""Files a folder is searched for (case-insensitive); other files are left alone."""


class ImageFiles(FrameSource):
    """Frames from image files, in order: the given list, or a folder sorted by name.

    An unreadable file raises ``UnreadableImage`` from ``read`` and is skipped: the next
    ``read`` goes on with the following file. Files are read when their turn comes, so a
    folder of thousands of captures opens at once.
    """

    def __init__(self, paths: Path | Sequence[Path]) -> None:
        """``paths`` is a folder (its images, sorted by name) or a sequence of files."""
        self._given = paths
        self._paths: list[Path] | None = None
        self._next = 0

    @property
    def folder(self) -> Path | None:
        """The folder read, or ``None`` for a list of files."""
        return self._given if isinstance(self._given, Path) else None

    def describe(self) -> str:
        if isinstance(self._given, Path):
            return f"images in {self._given}"
        return f"{len(self._given)} image files"

    def open(self) -> None:
        """List the folder, or check that each listed file exists.

        Raises ``SourceNotFound`` for a missing folder or file.
        """
        if isinstance(self._given, Path):
            if not self._given.is_dir():
                raise SourceNotFound(f"folder {self._given}")
            paths = [
                path
                for path in self._given.iterdir()
                if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
            ]
            self._paths = sorted(paths)
        else:
            missing = [path for path in self._given if not path.is_file()]
            if missing:
                raise SourceNotFound(f"image file {missing[0]}")
            self._paths = list(self._given)
        self._next = 0

    def read(self, timeout: float) -> Frame | None:
        """The next file's pixels; ``timeout`` is unused (files never keep us waiting)."""
        if self._paths is None:
            raise RuntimeError("ImageFiles.read() before open()")
        if self._next >= len(self._paths):
            raise StreamEnded(self.describe(), frames=self._next)
        index = self._next
        path = self._paths[index]
        self._next += 1
        image = decode_image(path, name=path.name)
        return Frame(image=image, timestamp=time.monotonic(), source=self.describe(), index=index)

    def close(self) -> None:
        self._paths = None
