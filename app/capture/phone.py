"""Phone capture without an app: a pairing web server on the LAN, as a ``FrameSource``.

The desktop shows ``qr_png()``, a QR code of ``url()``. The phone's browser opens it, is
paired (see ``pairing``), lands on the capture page from ``resources/phone/`` and posts
each photo to ``/upload``; accepted photos come out of ``read`` as frames, in order.
With ``videos=True`` the page also offers a short tilt video (a hologram burst): it is
sampled evenly to at most ``BURST_FRAMES`` frames, which ``read`` gives one after another.

Routes::

    GET  /p/<token>     claim the pairing; 303 to /capture with a session cookie
    GET  /capture       the capture page, for the paired phone only
    GET  /static/<f>    the page's script and style sheet
    POST /upload        one photo as the raw request body (JPEG, PNG or WebP);
                        answers JSON {"accepted": true, "photo", "width", "height"}
                        or {"accepted": false, "reason"} with the status below;
                        or, with ``videos``, one video (MP4/MOV or WebM, told by
                        its magic bytes), answered {"accepted": true, "video",
                        "frames", "width", "height"}

Refusals: 401 not the paired phone, 403 wrong token or another phone, 410 token expired,
411 no length, 413 too large (photos and videos have separate limits), 415 not a
JPEG/PNG/WebP (or an undecodable HEIC), or a video when ``videos`` is off, 422 damaged
image, or a video that is damaged, cut short, too long or too large a frame, 429 too many
uploads a minute, 500 a video that cannot be stored to decode, 503 too many uploads
waiting for the desktop.

A video is spooled to a private temporary file (``tempfile.mkstemp``, removed after
decoding), so only the sampled frames are held in memory.

Plain HTTP by default: browsers then allow no live camera preview (``getUserMedia`` needs
a secure context), and the page falls back to the phone's own camera through
``<input type=file capture>``, which takes full-resolution, focused photos anyway. Pass
``tls`` (a certificate and key, e.g. self-signed with ``openssl``) to serve HTTPS.
"""

from __future__ import annotations

import html
import io
import json
import logging
import os
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import unquote, urlsplit

import numpy as np
import segno
from numpy.typing import NDArray

from app.capture.buffer import FrameBuffer
from app.capture.clip import VideoKind, sample_video, sniff_video
from app.capture.decode import ImageKind, decode_image, sniff
from app.capture.errors import (
    PhoneRequestRefused,
    SourceFailed,
    SourceNotFound,
    StreamEnded,
    UnreadableImage,
    UnreadableVideo,
)
from app.capture.pairing import DEFAULT_TTL, DEFAULT_UPLOADS_PER_MINUTE, PairingGate, PairingStatus
from app.capture.source import Frame, FrameSource
from fingerprint.hologram.params import BurstParams

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).resolve().parents[2] / "resources" / "phone"
MAX_UPLOAD_BYTES = 20_000_000
"""Largest photo accepted (20 MB; a 50 MP phone JPEG is about 15 MB)."""
MAX_VIDEO_UPLOAD_BYTES = 100_000_000
"""Largest video accepted (100 MB; 5 s of 4K at 60 fps from a phone is about 40 MB)."""
MAX_VIDEO_FRAMES = 1800
"""Longest video decoded, in frames (a minute at 30 fps, 15 s of 120 fps slow motion)."""
MAX_VIDEO_FRAME_PIXELS = 3840 * 2160
"""Largest video frame decoded (4K UHD), in pixels."""
BURST_FRAMES = BurstParams().max_frames
"""Frames a video is sampled down to: the most a hologram tilt burst takes."""
MAX_WAITING = 8
"""Uploads (a photo, or all the frames of one video) held for the desktop to read; more
are refused with 503 until it catches up."""
MAX_WAITING_FRAMES = MAX_WAITING + BURST_FRAMES
"""Frames held for the desktop in all, so room for one whole video beside the photos.

Memory bound: at most 8 photos of up to 64 MP, or 7 of them and 60 video frames of up to
8.3 MP: about 1.5 GB + 1.5 GB of BGR pixels at worst (1080p video: 0.4 GB)."""

_COOKIE = "hallmark_phone"
_SOCKET_TIMEOUT = 15.0  # seconds a connection may sit idle; bounds slow or stuck clients
_SHUTDOWN_POLL = 0.05  # seconds; how quickly close() is noticed by the serving loop
_DRAIN_LIMIT = 64 * 1024 * 1024  # unread body read and dropped before a refusal
_SNIFF_BYTES = 16  # read first to tell a photo from a video by its magic bytes
_CHUNK = 1 << 20  # bytes of a video copied to its temporary file at a time
_STATIC = {
    "phone.js": "text/javascript; charset=utf-8",
    "phone.css": "text/css; charset=utf-8",
}
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
        "media-src 'self' blob:; connect-src 'self'; form-action 'none'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsFiles:
    """A PEM certificate chain and its private key, for serving HTTPS."""

    certificate: Path
    private_key: Path


def lan_address() -> str:
    """The IPv4 address of the interface that routes outward, else ``127.0.0.1``.

    Connecting a UDP socket only chooses a route: no packet is sent.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): nobody answers there
        except OSError:
            return "127.0.0.1"
        address = str(probe.getsockname()[0])
    return "127.0.0.1" if address == "0.0.0.0" else address


class PhoneSource(FrameSource):
    """Photos (and, if enabled, tilt videos) uploaded by one paired phone, as frames.

    Each upload is kept until read; a video's frames are read one after another.
    """

    def __init__(
        self,
        *,
        host: str = "0.0.0.0",
        port: int = 0,
        advertise_host: str | None = None,
        ttl: float = DEFAULT_TTL,
        uploads_per_minute: int = DEFAULT_UPLOADS_PER_MINUTE,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        videos: bool = False,
        max_video_bytes: int = MAX_VIDEO_UPLOAD_BYTES,
        tls: TlsFiles | None = None,
        clock: Callable[[], float] = time.monotonic,
        page_dir: Path = PAGE_DIR,
    ) -> None:
        """Bind to ``host``:``port`` (0 picks a free port) when opened.

        The URL names ``advertise_host``, by default the bound address, or the LAN
        address when bound to all interfaces. ``ttl`` is how long the pairing token may
        be claimed, in seconds of ``clock``, which also stamps the frames (all the
        frames of a video get the time it was received). ``videos`` lets the page send
        a tilt video of up to ``max_video_bytes``; photos stay within ``max_upload_bytes``.
        """
        self._host = host
        self._port = port
        self._advertise_host = advertise_host
        self._ttl = ttl
        self._uploads_per_minute = uploads_per_minute
        self._max_upload_bytes = max_upload_bytes
        self._videos = videos
        self._max_video_bytes = max_video_bytes
        self._tls = tls
        self._clock = clock
        self._page_dir = page_dir
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def describe(self) -> str:
        return "phone"

    def open(self) -> None:
        """Load the page, bind the port and start serving; a fresh pairing token.

        Raises ``SourceNotFound`` if the page files are missing, ``SourceFailed`` if the
        port cannot be bound or the TLS files cannot be loaded.
        """
        self.close()
        limits = _Limits(
            photo_bytes=self._max_upload_bytes,
            video_bytes=self._max_video_bytes if self._videos else None,
        )
        service = _Service(
            page=_Page.load(self._page_dir, limits),
            gate=PairingGate(
                clock=self._clock, ttl=self._ttl, uploads_per_minute=self._uploads_per_minute
            ),
            limits=limits,
            secure=self._tls is not None,
            clock=self._clock,
            label=self.describe(),
        )
        try:
            server = _Server((self._host, self._port), service, _tls_context(self._tls))
        except OSError as exc:
            raise SourceFailed(
                self.describe(), f"cannot listen on {self._host}:{self._port}: {exc}"
            ) from exc
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL},
            name="phone-server",
            daemon=True,
        )
        self._thread.start()

    def read(self, timeout: float) -> Frame | None:
        return self._running().service.frames.get(timeout)

    def close(self) -> None:
        """Stop serving, after the requests in flight; a ``read`` waiting on another
        thread wakes with ``StreamEnded``."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        service = server.service
        service.frames.finish(StreamEnded(self.describe(), frames=service.accepted))

    def url(self) -> str:
        """The pairing URL to show as a QR code."""
        server = self._running()
        scheme = "https" if self._tls else "http"
        host = self._advertise_host
        if host is None:
            host = lan_address() if self._host in ("", "0.0.0.0") else self._host
        port = server.server_address[1]
        return f"{scheme}://{host}:{port}/p/{server.service.gate.status().token}"

    def qr_png(self, *, scale: int = 8) -> bytes:
        """``url()`` as a QR code in PNG bytes (``QImage.fromData`` shows it)."""
        out = io.BytesIO()
        segno.make(self.url(), error="m").save(out, kind="png", scale=scale, border=4)
        return out.getvalue()

    def renew(self) -> str:
        """Issue a new pairing token (the old phone is forgotten); returns the new URL."""
        self._running().service.gate.renew()
        return self.url()

    def status(self) -> PairingStatus:
        return self._running().service.gate.status()

    def _running(self) -> _Server:
        if self._server is None:
            raise RuntimeError("PhoneSource is not open")
        return self._server


@dataclass(frozen=True, slots=True, kw_only=True)
class _Limits:
    """Largest uploads accepted, in bytes; ``video_bytes`` is ``None`` when videos are off."""

    photo_bytes: int
    video_bytes: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Page:
    """The capture page and its static files, read once per ``open``."""

    index: bytes
    static: dict[str, bytes]

    @classmethod
    def load(cls, folder: Path, limits: _Limits) -> _Page:
        """Read the files and fill in the limits the page's script reads from its meta tags."""
        try:
            index = (folder / "index.html").read_text(encoding="utf-8")
            static = {name: (folder / name).read_bytes() for name in _STATIC}
        except OSError as exc:
            raise SourceNotFound(f"phone page file {exc.filename}") from exc
        index = index.replace("__MAX_UPLOAD_BYTES__", str(limits.photo_bytes))
        index = index.replace("__MAX_VIDEO_BYTES__", str(limits.video_bytes or 0))
        return cls(index=index.encode("utf-8"), static=static)


def _tls_context(tls: TlsFiles | None) -> ssl.SSLContext | None:
    if tls is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(tls.certificate, tls.private_key)
    except (OSError, ssl.SSLError) as exc:
        raise SourceFailed(
            "phone", f"cannot load TLS certificate {tls.certificate}: {exc}"
        ) from exc
    return context


class _Service:
    """What the server does, apart from HTTP framing: pairing, limits, uploads to frames."""

    def __init__(
        self,
        *,
        page: _Page,
        gate: PairingGate,
        limits: _Limits,
        secure: bool,
        clock: Callable[[], float],
        label: str,
    ) -> None:
        self.page = page
        self.gate = gate
        self.limits = limits
        self.secure = secure
        self.frames = FrameBuffer(
            capacity=MAX_WAITING, max_items=MAX_WAITING_FRAMES, drop_oldest=False
        )
        self.accepted = 0
        self._photos = 0
        self._videos = 0
        self._clock = clock
        self._label = label
        self._lock = threading.Lock()

    def classify(self, head: bytes, length: int) -> VideoKind | None:
        """The video an upload of ``length`` bytes starting with ``head`` is, else ``None``.

        Refuses an upload over its kind's size limit (413) and a video when videos are
        off (415), before the body is read.
        """
        kind = sniff_video(head)
        if kind is None:
            _check_size("photo", length, self.limits.photo_bytes)
            return None
        if self.limits.video_bytes is None:
            raise PhoneRequestRefused(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "This page takes photos only: send a JPEG, PNG or WebP image.",
            )
        _check_size("video", length, self.limits.video_bytes)
        return kind

    def accept_photo(self, body: bytes) -> dict[str, object]:
        """Turn an uploaded photo into a frame for ``read``; returns the JSON answer.

        Raises ``PhoneRequestRefused``.
        """
        kind = sniff(body)
        if kind is None:
            reason = "Not a photo: send a JPEG, PNG or WebP image."
            if self.limits.video_bytes is not None:
                reason = "Not a photo or video: send a JPEG, PNG or WebP image, or a video."
            raise PhoneRequestRefused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, reason)
        try:
            image = decode_image(body, name="the photo")
        except UnreadableImage as exc:
            if kind is ImageKind.HEIC:
                raise PhoneRequestRefused(
                    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                    "HEIC photos cannot be read here. Set the camera to 'Most Compatible' "
                    "(JPEG), or take the photo from this page.",
                ) from exc
            raise PhoneRequestRefused(HTTPStatus.UNPROCESSABLE_ENTITY, exc.reason) from exc
        with self._lock:
            self._hand_over([image])
            self._photos += 1
            number = self._photos
        height, width = image.shape[:2]
        return {"accepted": True, "photo": number, "width": width, "height": height}

    def accept_video(self, path: Path, kind: VideoKind) -> dict[str, object]:
        """Turn the video spooled at ``path`` into frames for ``read``; the JSON answer.

        Raises ``PhoneRequestRefused``.
        """
        try:
            images = sample_video(
                path,
                kind,
                keep=BURST_FRAMES,
                max_frames=MAX_VIDEO_FRAMES,
                max_pixels=MAX_VIDEO_FRAME_PIXELS,
            )
        except UnreadableVideo as exc:
            raise PhoneRequestRefused(HTTPStatus.UNPROCESSABLE_ENTITY, exc.reason) from exc
        with self._lock:
            self._hand_over(images)
            self._videos += 1
            number = self._videos
        height, width = images[0].shape[:2]
        return {
            "accepted": True,
            "video": number,
            "frames": len(images),
            "width": width,
            "height": height,
        }

    def _hand_over(self, images: list[NDArray[np.uint8]]) -> None:
        """Queue one upload's frames together, all or none; the caller holds the lock."""
        now = self._clock()
        frames = [
            Frame(image=image, timestamp=now, source=self._label, index=self.accepted + offset)
            for offset, image in enumerate(images)
        ]
        if not self.frames.put_group(frames):
            raise PhoneRequestRefused(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "The desktop is still busy with earlier uploads. Try again in a moment.",
                retry_after=2.0,
            )
        self.accepted += len(frames)


def _check_size(noun: str, length: int, limit: int) -> None:
    if length > limit:
        raise PhoneRequestRefused(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"The {noun} is {length / 1e6:.1f} MB; the limit is {limit / 1e6:.1f} MB.",
        )


class _Server(ThreadingHTTPServer):
    """One thread per connection; TLS handshakes happen on that thread, not the listener."""

    daemon_threads = False  # server_close() waits for requests in flight

    def __init__(
        self, address: tuple[str, int], service: _Service, tls: ssl.SSLContext | None
    ) -> None:
        self.service = service
        self.tls = tls
        super().__init__(address, _Handler)

    def finish_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if self.tls is None or not isinstance(request, socket.socket):
            super().finish_request(request, client_address)
            return
        request.settimeout(_SOCKET_TIMEOUT)  # the handshake must not wait forever either
        try:
            secured = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.info("TLS handshake with %s failed: %s", client_address, exc)
            return
        with secured:
            super().finish_request(secured, client_address)

    def handle_error(self, request: object, client_address: object) -> None:
        log.warning("phone request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """HTTP framing only; decisions are the service's and the gate's."""

    server_version = "Hallmark-phone"
    sys_version = ""
    timeout = _SOCKET_TIMEOUT

    @property
    def _service(self) -> _Service:
        return cast(_Server, self.server).service

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        try:
            if path.startswith("/p/"):
                self._pair(path.removeprefix("/p/"))
            elif path == "/capture":
                self._service.gate.check(self._session())
                self._send(HTTPStatus.OK, self._service.page.index, "text/html; charset=utf-8")
            elif path.startswith("/static/") and path.removeprefix("/static/") in _STATIC:
                name = path.removeprefix("/static/")
                self._send(HTTPStatus.OK, self._service.page.static[name], _STATIC[name])
            else:
                raise PhoneRequestRefused(
                    HTTPStatus.NOT_FOUND, "Nothing here. Scan the QR code on the Hallmark screen."
                )
        except PhoneRequestRefused as exc:
            self._send(exc.status, _message_page(exc.reason), "text/html; charset=utf-8")

    def do_POST(self) -> None:
        self._unread = 0
        try:
            self._unread = self._length = self._content_length()
            if urlsplit(self.path).path != "/upload":
                raise PhoneRequestRefused(HTTPStatus.NOT_FOUND, "Uploads go to /upload.")
            self._service.gate.admit_upload(self._session())
            head = self._read(min(self._unread, _SNIFF_BYTES))
            kind = self._service.classify(head, self._length)
            if kind is None:
                reply = self._service.accept_photo(head + self._read(self._unread))
            else:
                reply = self._accept_video(head, kind)
        except PhoneRequestRefused as exc:
            self._drain()
            self._send_json(exc.status, {"accepted": False, "reason": exc.reason}, exc.retry_after)
        else:
            self._send_json(HTTPStatus.OK, reply)

    def _accept_video(self, head: bytes, kind: VideoKind) -> dict[str, object]:
        """Spool the body to a private temporary file, decode it there, then remove it."""
        try:
            descriptor, name = tempfile.mkstemp(prefix="hallmark-video-", suffix=kind.suffix)
        except OSError as exc:
            raise _unstorable(exc) from exc
        path = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as spool:
                spool.write(head)
                self._copy_body(spool)
            return self._service.accept_video(path, kind)
        except OSError as exc:
            raise _unstorable(exc) from exc
        finally:
            path.unlink(missing_ok=True)

    def _copy_body(self, out: BinaryIO) -> None:
        while self._unread:
            out.write(self._read(min(self._unread, _CHUNK)))

    def _read(self, count: int) -> bytes:
        """``count`` bytes of the body; 400 if the client sends fewer."""
        data = self.rfile.read(count)
        self._unread -= len(data)
        if len(data) != count:
            raise PhoneRequestRefused(
                HTTPStatus.BAD_REQUEST,
                f"The upload was cut short: {self._length - self._unread} of {self._length} bytes.",
            )
        return data

    def _pair(self, token: str) -> None:
        device = self.headers.get("User-Agent", "unknown browser")
        session = self._service.gate.claim(token, self._session(), device=device)
        cookie = f"{_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax"
        if self._service.secure:
            cookie += "; Secure"
        self._send(
            HTTPStatus.SEE_OTHER,
            b"",
            "text/plain",
            extra={"Location": "/capture", "Set-Cookie": cookie},
        )

    def _session(self) -> str | None:
        try:
            morsel = SimpleCookie(self.headers.get("Cookie", "")).get(_COOKIE)
        except CookieError:
            return None
        return None if morsel is None else morsel.value

    def _content_length(self) -> int:
        text = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or text is None or not text.isdigit():
            raise PhoneRequestRefused(
                HTTPStatus.LENGTH_REQUIRED, "Send the photo with a Content-Length."
            )
        return int(text)

    def _drain(self) -> None:
        """Read and drop the unread body, so the client sees our answer, not a reset."""
        remaining = min(self._unread, _DRAIN_LIMIT)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)

    def _send_json(
        self, status: HTTPStatus, reply: dict[str, object], retry_after: float | None = None
    ) -> None:
        extra = {} if retry_after is None else {"Retry-After": str(max(1, round(retry_after)))}
        body = json.dumps(reply).encode("utf-8")
        self._send(status, body, "application/json", extra=extra)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        *,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        headers = _SECURITY_HEADERS | {"Content-Type": content_type} | (extra or {})
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.client_address[0], *args)


def _unstorable(exc: OSError) -> PhoneRequestRefused:
    return PhoneRequestRefused(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        f"The desktop cannot store the video to read it: {exc.strerror or exc}.",
    )


def _message_page(reason: str) -> bytes:
    """A small page telling the person holding the phone what went wrong and what to do."""
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<link rel=stylesheet href="/static/phone.css"><title>Hallmark</title>'
        f"<main class=message><h1>Hallmark</h1><p>{html.escape(reason)}</p></main></html>"
    ).encode()
