"""Where the fingerprint window sits on an item, relative to its printed code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionSpec:
    """The fingerprint window, in module units of the code's own frame.

    The frame's origin is the outer top-left corner of the code symbol (for a DataMatrix
    the corner of its "L" finder at the top), x runs along the symbol's top edge and y
    down its left edge, one unit per module. The default puts a square window the size
    of a 22×22 symbol to the right of the code, four modules away.
    """

    x: float = 26.0
    y: float = 0.0
    width: float = 22.0
    height: float = 22.0

    def __post_init__(self) -> None:
        if not (self.width > 0 and self.height > 0):
            raise ValueError(f"RegionSpec needs a positive size, got {self.width}×{self.height}")

    def corners(self) -> NDArray[np.float64]:
        """The window's corners (top-left, top-right, bottom-right, bottom-left), shape (4, 2)."""
        x0, y0, x1, y1 = self.x, self.y, self.x + self.width, self.y + self.height
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
