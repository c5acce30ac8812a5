"""What the live view says about a frame, and when a steady capture is taken.

`analyse` runs the first two steps of the pipeline (``fingerprint.locate`` and
``fingerprint.quality``) on one frame and returns where the fingerprint window and the
code are, what the code says, and the quality problems as plain instructions.
`Steadiness` is the auto-capture rule: a capture is taken once per presentation of an
item, when quality has held for N consecutive analysed frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fingerprint.image import ImageInput, to_gray
from fingerprint.locate import locate
from fingerprint.params import FeatureParams
from fingerprint.quality import QualityIssue, RetakeReason, assess, measure
from fingerprint.region import RegionSpec

INSTRUCTIONS = {
    RetakeReason.OUT_OF_VIEW: "centre the item in the box",
    RetakeReason.WINDOW_TOO_SMALL: "move closer",
    RetakeReason.TOO_DARK: "add light",
    RetakeReason.CLIPPED: "too bright: reduce the light",
    RetakeReason.GLARE: "glare: tilt the item",
    RetakeReason.MOTION_BLUR: "hold still",
    RetakeReason.OUT_OF_FOCUS: "hold still and let it focus",
    RetakeReason.NO_CODE: "show the item's code",
    RetakeReason.COPY_UNCLEAR: "retake it sharp, in even light",
}
"""A short instruction for each retake reason, for people holding the item."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveAnalysis:
    """One analysed frame.

    ``window`` is (4, 2) frame pixel coordinates of the fingerprint window's corners
    (top-left, top-right, bottom-right, bottom-left in the window's own orientation);
    ``code`` the same for the decoded code symbol, ``None`` when no code was read (the
    window is then the whole frame). ``issues`` are `fingerprint.quality` failures.
    """

    frame_size: tuple[int, int]
    """(width, height) of the analysed frame."""
    window: NDArray[np.float64] = field(repr=False)
    code: NDArray[np.float64] | None = field(repr=False)
    serial: str | None
    gtin: str | None
    issues: tuple[QualityIssue, ...]

    def __post_init__(self) -> None:
        self.window.flags.writeable = False
        if self.code is not None:
            self.code.flags.writeable = False

    @property
    def ok(self) -> bool:
        """Whether a code was read and every quality check passed."""
        return self.serial is not None and not self.issues

    def instructions(self) -> tuple[str, ...]:
        """What to do, most actionable first; empty when the capture is good."""
        reasons = [issue.reason for issue in self.issues]
        if self.serial is None:
            reasons.insert(0, RetakeReason.NO_CODE)
        return tuple(dict.fromkeys(INSTRUCTIONS[reason] for reason in reasons))


def analyse(
    image: ImageInput, region: RegionSpec = RegionSpec(), params: FeatureParams = FeatureParams()
) -> LiveAnalysis:
    """Locate the code and window of ``image`` and check the window's quality.

    The same steps, with the same parameters, as ``fingerprint.extract`` before it
    describes the window, so what the live view approves is what will be fingerprinted.
    """
    gray = to_gray(image)
    size = params.patch_size
    window = locate(gray, region, size)
    corners = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float64)
    in_frame = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), window.to_image)
    code = window.code
    return LiveAnalysis(
        frame_size=(gray.shape[1], gray.shape[0]),
        window=np.asarray(in_frame, np.float64).reshape(4, 2),
        code=None if code is None else np.array(code.corners, np.float64),
        serial=None if code is None else code.serial,
        gtin=None if code is None or code.gs1 is None else code.gs1.gtin,
        issues=assess(measure(window.patch, window.size_px, window.in_view)),
    )


class Steadiness:
    """Auto-capture: fire once per presentation of an item whose quality holds.

    `observe` returns ``True`` on the ``frames``-th consecutive good analysis of the
    same serial. It then stays quiet for that item until the item leaves view (a frame
    with no code) or another serial appears, so an item held in view is captured once.
    """

    def __init__(self, frames: int) -> None:
        if frames < 1:
            raise ValueError(f"frames must be at least 1, got {frames}")
        self.frames = frames
        self._serial: str | None = None
        self._count = 0
        self._fired = False

    @property
    def progress(self) -> float:
        """How far the current item is towards capture, 0 to 1 (1 once captured)."""
        return 1.0 if self._fired else self._count / self.frames

    def observe(self, analysis: LiveAnalysis) -> bool:
        """Take ``analysis`` into account; ``True`` when a capture should be taken now."""
        if analysis.serial != self._serial:
            self.reset()
            self._serial = analysis.serial
        if not analysis.ok or self._fired:
            self._count = 0
            return False
        self._count += 1
        if self._count >= self.frames:
            self._fired = True
            return True
        return False

    def reset(self) -> None:
        """Forget the current item: the next good frames may fire again."""
        self._serial, self._count, self._fired = None, 0, False
