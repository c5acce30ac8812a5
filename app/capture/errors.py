"""Errors raised by frame sources and the phone pairing server.

::

    CaptureError
    ├── SourceNotFound         no such camera, file, folder or URL
    ├── SourceFailed           the source broke while running (camera error, HTTP error,
    │                          a stream that stalled or sent garbage)
    ├── StreamEnded            no more frames: end of the video, folder or stream
    ├── FrameRejected          one input could not be used; the source goes on
    │   ├── UnreadableImage    a file or upload that does not decode to an image
    │   └── UnreadableVideo    an uploaded video that is damaged, cut short or too big
    ├── UnsupportedSetting     the camera does not offer the requested format or control
    └── PhoneRequestRefused    a phone request refused; ``status`` is the HTTP answer
                               (401 not paired, 403 wrong token or another phone,
                               410 pairing expired, 411/413 size, 415/422 type,
                               429 rate, 500 a video not storable, 503 desktop busy)

Each error carries its evidence as fields, and its message says what was expected and
what was found. Programming errors (a frame of the wrong shape, a negative timeout) are
``ValueError``\\ s.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus


class CaptureError(Exception):
    """Base class of every error a frame source raises."""


class SourceNotFound(CaptureError):
    """The camera, file, folder or URL named by ``source`` does not exist.

    ``available`` lists what does exist when the kind of source can be listed (cameras),
    and is ``None`` when it cannot.
    """

    def __init__(self, source: str, *, available: Sequence[str] | None = None) -> None:
        self.source = source
        self.available = None if available is None else tuple(available)
        hint = ""
        if self.available is not None:
            hint = f"; available: {', '.join(self.available) or 'none'}"
        super().__init__(f"{source} not found{hint}")


class SourceFailed(CaptureError):
    """The source ``source`` stopped working: ``reason`` says how."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source} failed: {reason}")


class StreamEnded(CaptureError):
    """``source`` has no more frames after ``frames`` of them."""

    def __init__(self, source: str, *, frames: int) -> None:
        self.source = source
        self.frames = frames
        super().__init__(f"{source} ended after {frames} frame{'' if frames == 1 else 's'}")


class FrameRejected(CaptureError):
    """One input could not be turned into a frame; reading may go on with the next."""


class UnreadableImage(FrameRejected):
    """``name`` is not a usable image: ``reason`` says why (not an image, damaged, huge)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"cannot read {name}: {reason}")


class UnreadableVideo(FrameRejected):
    """An uploaded video gave no frames: ``reason`` says why (damaged, cut short, huge)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"cannot read the video: {reason}")


class UnsupportedSetting(CaptureError):
    """The camera does not offer ``setting`` = ``requested``; ``offered`` lists what it does."""

    def __init__(self, setting: str, requested: str, *, offered: Sequence[str]) -> None:
        self.setting = setting
        self.requested = requested
        self.offered = tuple(offered)
        listing = ", ".join(self.offered) if self.offered else "nothing"
        super().__init__(f"camera does not offer {setting} {requested}; it offers {listing}")


class PhoneRequestRefused(CaptureError):
    """The pairing server refused a request; ``status`` is the HTTP status it answers with.

    ``reason`` is shown to the person holding the phone, so it says what to do;
    ``retry_after`` is in seconds, for 429 and 503.
    """

    def __init__(
        self, status: HTTPStatus, reason: str, *, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"{status.value} {status.phrase}: {reason}")
