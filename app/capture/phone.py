"""Phone capture without an app: a pairing web server on the LAN, as a ``FrameSource``.

The desktop shows ``qr_png()``, a QR code of ``url()``. The phone's browser opens it, is
paired (see ``pairing``), lands on the capture page from ``resources/phone/`` and posts
each photo to ``/upload``; accepted photos come out of ``read`` as frames, in order.

Routes::

    GET  /p/<token>     claim the pairing; 303 to /capture with a session cookie
    GET  /capture       the capture page, for the paired phone only
    GET  /static/<f>    the page's script and style sheet
    POST /upload        one photo as the raw request body (JPEG, PNG or WebP);
                        answers JSON {"accepted": true, "photo", "width", "height"}
                        or {"accepted": false, "reason"} with the status below

Refusals: 401 not the paired phone, 403 wrong token or another phone, 410 token expired,
411 no length, 413 too large, 415 not a JPEG/PNG/WebP (or an undecodable HEIC), 422
damaged image, 429 too many photos a minute, 503 too many photos waiting for the desktop.

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
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import segno

from app.capture.buffer import FrameBuffer
from app.capture.decode import ImageKind, decode_image, sniff
from app.capture.errors import (
    PhoneRequestRefused,
    SourceFailed,
    SourceNotFound,
    StreamEnded,
    UnreadableImage,
)
from app.capture.pairing import DEFAULT_TTL, DEFAULT_UPLOADS_PER_MINUTE, PairingGate, PairingStatus
from app.capture.source import Frame, FrameSource

log = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).resolve().parents[2] / "resources" / "phone"
MAX_UPLOAD_BYTES = 20_000_000
"""Largest photo accepted (20 MB; a 50 MP phone JPEG is about 15 MB)."""
MAX_WAITING = 8
"""Photos held for the desktop to read; more are refused with 503 until it catches up."""

_COOKIE = "hallmark_phone"
_SOCKET_TIMEOUT = 15.0  # seconds a connection may sit idle; bounds slow or stuck clients
_SHUTDOWN_POLL = 0.05  # seconds; how quickly close() is noticed by the serving loop
_DRAIN_LIMIT = 64 * 1024 * 1024  # unread body read and dropped before a refusal
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
    """Photos uploaded by one paired phone, as frames; each upload is kept until read."""

    def __init__(
        self,
        *,
        host: str = "0.0.0.0",
        port: int = 0,
        advertise_host: str | None = None,
        ttl: float = DEFAULT_TTL,
        uploads_per_minute: int = DEFAULT_UPLOADS_PER_MINUTE,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        tls: TlsFiles | None = None,
        clock: Callable[[], float] = time.monotonic,
        page_dir: Path = PAGE_DIR,
    ) -> None:
        """Bind to ``host``:``port`` (0 picks a free port) when opened.

        The URL names ``advertise_host``, by default the bound address, or the LAN
        address when bound to all interfaces. ``ttl`` is how long the pairing token may
        be claimed, in seconds of ``clock``, which also stamps the frames.
        """
        self._host = host
        self._port = port
        self._advertise_host = advertise_host
        self._ttl = ttl
        self._uploads_per_minute = uploads_per_minute
        self._max_upload_bytes = max_upload_bytes
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
        service = _Service(
            page=_Page.load(self._page_dir, max_upload_bytes=self._max_upload_bytes),
            gate=PairingGate(
                clock=self._clock, ttl=self._ttl, uploads_per_minute=self._uploads_per_minute
            ),
            max_upload_bytes=self._max_upload_bytes,
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
class _Page:
    """The capture page and its static files, read once per ``open``."""

    index: bytes
    static: dict[str, bytes]

    @classmethod
    def load(cls, folder: Path, *, max_upload_bytes: int) -> _Page:
        try:
            index = (folder / "index.html").read_text(encoding="utf-8")
            static = {name: (folder / name).read_bytes() for name in _STATIC}
        except OSError as exc:
            raise SourceNotFound(f"phone page file {exc.filename}") from exc
        index = index.replace("__MAX_UPLOAD_BYTES__", str(max_upload_bytes))
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
    """What the server does, apart from HTTP framing: pairing, limits, photos to frames."""

    def __init__(
        self,
        *,
        page: _Page,
        gate: PairingGate,
        max_upload_bytes: int,
        secure: bool,
        clock: Callable[[], float],
        label: str,
    ) -> None:
        self.page = page
        self.gate = gate
        self.max_upload_bytes = max_upload_bytes
        self.secure = secure
        self.frames = FrameBuffer(capacity=MAX_WAITING, drop_oldest=False)
        self.accepted = 0
        self._clock = clock
        self._label = label
        self._lock = threading.Lock()

    def accept(self, body: bytes) -> Frame:
        """Turn an uploaded photo into a frame for ``read``; raises ``PhoneRequestRefused``."""
        kind = sniff(body)
        if kind is None:
            raise PhoneRequestRefused(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Not a photo: send a JPEG, PNG or WebP image."
            )
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
            frame = Frame(
                image=image, timestamp=self._clock(), source=self._label, index=self.accepted
            )
            if not self.frames.put(frame):
                raise PhoneRequestRefused(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    "The desktop is still busy with earlier photos. Try again in a moment.",
                    retry_after=2.0,
                )
            self.accepted += 1
        return frame


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
            self._unread = self._content_length()
            if urlsplit(self.path).path != "/upload":
                raise PhoneRequestRefused(HTTPStatus.NOT_FOUND, "Uploads go to /upload.")
            self._service.gate.admit_upload(self._session())
            if self._unread > self._service.max_upload_bytes:
                raise PhoneRequestRefused(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"The photo is {self._unread / 1e6:.1f} MB; "
                    f"the limit is {self._service.max_upload_bytes / 1e6:.1f} MB.",
                )
            body = self.rfile.read(self._unread)
            if len(body) != self._unread:
                raise PhoneRequestRefused(
                    HTTPStatus.BAD_REQUEST,
                    f"The upload was cut short: {len(body)} of {self._unread} bytes.",
                )
            self._unread = 0
            frame = self._service.accept(body)
        except PhoneRequestRefused as exc:
            self._drain()
            self._send_json(exc.status, {"accepted": False, "reason": exc.reason}, exc.retry_after)
        else:
            height, width = frame.image.shape[:2]
            reply = {"accepted": True, "photo": frame.index + 1, "width": width, "height": height}
            self._send_json(HTTPStatus.OK, reply)

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


def _message_page(reason: str) -> bytes:
    """A small page telling the person holding the phone what went wrong and what to do."""
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<link rel=stylesheet href="/static/phone.css"><title>Hallmark</title>'
        f"<main class=message><h1>Hallmark</h1><p>{html.escape(reason)}</p></main></html>"
    ).encode()
