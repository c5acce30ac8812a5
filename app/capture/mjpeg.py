"""``MjpegUrl``: an MJPEG stream or a JPEG snapshot URL (phone "IP webcam" apps).

An MJPEG stream is an endless HTTP response of type ``multipart/x-mixed-replace``, one
JPEG per part. Servers disagree on the details, so the parser here accepts parts with or
without ``Content-Length``, CRLF or bare LF line ends, a boundary declared with or without
its leading dashes, and a missing boundary parameter (the first ``--`` line is taken).
A URL that answers with a single ``image/*`` instead is polled as a snapshot camera.

httpx rather than ``cv2.VideoCapture(url)``: explicit timeouts, HTTP status codes in the
errors, snapshot URLs, and a parser that can be tested byte by byte.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.message import Message

import httpx

from app.capture.buffer import FrameBuffer
from app.capture.decode import decode_image
from app.capture.errors import (
    CaptureError,
    SourceFailed,
    SourceNotFound,
    StreamEnded,
    UnreadableImage,
)
from app.capture.source import Frame, FrameSource

MAX_FRAME_BYTES = 20 * 1024 * 1024
"""Largest JPEG accepted from a stream or snapshot URL."""
_MAX_HEADER_LINES = 32


class MultipartSplitter:
    """Splits a ``multipart/x-mixed-replace`` byte stream into part bodies, incrementally.

    ``feed`` takes bytes as they arrive, in chunks of any size, and returns the bodies
    completed so far. Part headers other than ``Content-Length`` are ignored.
    """

    def __init__(self, boundary: str | None, *, name: str, max_part_bytes: int) -> None:
        self._token = (boundary or "--").encode("latin-1")
        self._delimiter: bytes | None = None  # the whole delimiter line, once seen
        self._buffer = bytearray()
        self._name = name
        self._max_part_bytes = max_part_bytes

    def feed(self, data: bytes) -> list[bytes]:
        """Add ``data``; return the part bodies it completed, oldest first.

        Raises ``SourceFailed`` when more than ``max_part_bytes`` pile up without a part
        ending, or a part declares a bad ``Content-Length``.
        """
        self._buffer += data
        bodies = []
        while (body := self._take_part()) is not None:
            bodies.append(body)
        if len(self._buffer) > self._max_part_bytes:
            raise SourceFailed(
                self._name,
                f"no complete part in {len(self._buffer)} bytes "
                f"(limit {self._max_part_bytes}); is this an MJPEG stream?",
            )
        return bodies

    def end(self) -> list[bytes]:
        """The stream closed: a part without ``Content-Length`` still open ends here."""
        if self._delimiter is None:
            return []
        newline = b"" if self._buffer.endswith(b"\n") else b"\r\n"
        return self.feed(newline + self._delimiter + b"--\r\n")

    def _take_part(self) -> bytes | None:
        buffer = self._buffer
        start = buffer.find(self._delimiter or self._token)
        if start < 0:
            return None
        line_end = buffer.find(b"\n", start)
        if line_end < 0:
            return None
        if self._delimiter is None:
            line_start = buffer.rfind(b"\n", 0, start) + 1
            self._delimiter = bytes(buffer[line_start:line_end]).strip()
        headers = self._headers(line_end + 1)
        if headers is None:
            return None
        length, body_start = headers
        if length is not None:
            body_end = next_start = body_start + length
            if len(buffer) < body_end:
                return None
        else:
            next_start = buffer.find(self._delimiter, body_start)
            if next_start < 0:
                return None
            body_end = next_start
            if buffer[body_end - 1 : body_end] == b"\n":
                body_end -= 1
            if body_end > body_start and buffer[body_end - 1 : body_end] == b"\r":
                body_end -= 1
        body = bytes(buffer[body_start:body_end])
        del buffer[:next_start]
        return body

    def _headers(self, position: int) -> tuple[int | None, int] | None:
        """``(Content-Length or None, where the body starts)``, or ``None`` if incomplete."""
        length: int | None = None
        for _ in range(_MAX_HEADER_LINES):
            line_end = self._buffer.find(b"\n", position)
            if line_end < 0:
                return None
            line = bytes(self._buffer[position:line_end]).strip()
            position = line_end + 1
            if not line:
                return length, position
            key, _, value = line.partition(b":")
            if key.strip().lower() == b"content-length":
                length = self._length(value)
        raise SourceFailed(self._name, f"a part has more than {_MAX_HEADER_LINES} header lines")

    def _length(self, value: bytes) -> int:
        text = value.strip().decode("latin-1")
        if not text.isdigit() or int(text) > self._max_part_bytes:
            raise SourceFailed(
                self._name,
                f"a part declares Content-Length {text!r}; "
                f"expected a number up to {self._max_part_bytes}",
            )
        return int(text)


class MjpegUrl(FrameSource):
    """Frames from an MJPEG stream or a JPEG snapshot URL, newest only.

    A reader thread receives and decodes continuously and keeps only the newest frame,
    so a slow consumer never falls behind the camera. A part that is not a decodable
    image surfaces as ``UnreadableImage`` from ``read``; the stream goes on. Credentials
    in the URL (``http://user:pass@host/video``) are sent as basic auth and never shown.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        snapshot_interval: float = 0.2,
    ) -> None:
        """``timeout`` bounds connecting and each wait for data; ``snapshot_interval`` is
        the pause between requests to a snapshot URL."""
        self._settings = _Settings(
            url=url,
            label=f"stream {httpx.URL(url).copy_with(userinfo=b'')}",
            timeout=timeout,
            snapshot_interval=snapshot_interval,
        )
        self._reader: _Reader | None = None

    def describe(self) -> str:
        return self._settings.label

    def open(self) -> None:
        """Start the reader thread; connection failures are raised by ``read``."""
        self.close()
        self._reader = _Reader(self._settings)
        self._reader.start()

    def read(self, timeout: float) -> Frame | None:
        if self._reader is None:
            raise RuntimeError("MjpegUrl.read() before open()")
        return self._reader.frames.get(timeout)

    def close(self) -> None:
        """Stop the reader; waits for it at most ``timeout`` seconds (a stalled stream)."""
        if self._reader is not None:
            self._reader.stop.set()
            self._reader.join(self._settings.timeout)
            self._reader = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Settings:
    url: str
    label: str
    timeout: float
    snapshot_interval: float


class _Reader(threading.Thread):
    """One ``open``'s worth of reading: GET, split, decode, hand over; until stopped."""

    def __init__(self, settings: _Settings) -> None:
        super().__init__(name="mjpeg-reader", daemon=True)
        self._settings = settings
        self._label = settings.label
        self.frames = FrameBuffer(capacity=1, drop_oldest=True)
        self.stop = threading.Event()
        self._count = 0

    def run(self) -> None:
        settings = self._settings
        try:
            with httpx.Client(timeout=settings.timeout) as client:
                while not self.stop.is_set():
                    self._request(client)
        except CaptureError as exc:
            self.frames.finish(exc)
        except httpx.ConnectError as exc:
            self.frames.finish(SourceFailed(self._label, f"cannot connect: {exc}"))
        except httpx.TimeoutException:
            self.frames.finish(SourceFailed(self._label, f"no data for {settings.timeout:g} s"))
        except httpx.HTTPError as exc:
            self.frames.finish(SourceFailed(self._label, str(exc)))
        finally:  # stopped by close(), or finished above (the first finish wins)
            self.frames.finish(StreamEnded(self._label, frames=self._count))

    def _request(self, client: httpx.Client) -> None:
        """One GET: read a whole MJPEG stream, or one snapshot then pause."""
        with client.stream("GET", self._settings.url) as response:
            if response.status_code == httpx.codes.NOT_FOUND:
                raise SourceNotFound(self._label)
            if not response.is_success:
                raise SourceFailed(
                    self._label, f"HTTP {response.status_code} {response.reason_phrase}"
                )
            header = Message()
            header["content-type"] = response.headers.get("content-type", "")
            kind = header.get_content_type()
            boundary = header.get_param("boundary")
            if kind.startswith("multipart/"):
                self._read_stream(response, boundary if isinstance(boundary, str) else None)
            elif kind.startswith("image/"):
                self._read_snapshot(response)
            else:
                raise SourceFailed(
                    self._label, f"expected multipart/x-mixed-replace or image/*, got {kind}"
                )

    def _read_stream(self, response: httpx.Response, boundary: str | None) -> None:
        splitter = MultipartSplitter(boundary, name=self._label, max_part_bytes=MAX_FRAME_BYTES)
        for chunk in response.iter_bytes():
            for body in splitter.feed(chunk):
                self._deliver(body)
            if self.stop.is_set():
                return
        for body in splitter.end():
            self._deliver(body)
        raise StreamEnded(self._label, frames=self._count)

    def _read_snapshot(self, response: httpx.Response) -> None:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_FRAME_BYTES:
                raise SourceFailed(self._label, f"snapshot larger than {MAX_FRAME_BYTES} bytes")
        self._deliver(bytes(body))
        self.stop.wait(self._settings.snapshot_interval)

    def _deliver(self, body: bytes) -> None:
        index = self._count
        self._count += 1
        try:
            image = decode_image(body, name=f"frame {index}")
        except UnreadableImage as exc:
            self.frames.put(exc)
            return
        self.frames.put(
            Frame(image=image, timestamp=time.monotonic(), source=self._label, index=index)
        )
