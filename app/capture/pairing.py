"""Who may send photos: one pairing token, claimed by the first phone that opens it.

The desktop shows a URL holding a random token. The first browser that opens it before
it expires is paired: it gets a random session id (a cookie), and from then on only that
session may upload. The token stops working for anyone else at that moment; a phone that
was paired may reopen it. ``renew`` issues a new token and forgets the paired phone.

Pure and Qt-free, with an injected clock, so expiry and rate limits are tested without
waiting. Secrets are compared in constant time.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

from app.capture.errors import PhoneRequestRefused

DEFAULT_TTL = 600.0
"""Seconds a pairing token stays claimable (10 minutes)."""
DEFAULT_UPLOADS_PER_MINUTE = 30
_WINDOW = 60.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PairingStatus:
    """A snapshot for the UI: the live token, when it expires, which phone holds it."""

    token: str
    expires_at: float
    """Clock time after which the token can no longer be claimed."""
    device: str | None
    """The paired phone's User-Agent, or ``None`` while waiting for a phone."""


class PairingGate:
    """Checks pairing claims and uploads; safe to call from many server threads."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        ttl: float = DEFAULT_TTL,
        uploads_per_minute: int = DEFAULT_UPLOADS_PER_MINUTE,
    ) -> None:
        if ttl <= 0 or uploads_per_minute < 1:
            raise ValueError(
                f"want ttl > 0 and uploads_per_minute >= 1, got {ttl} and {uploads_per_minute}"
            )
        self._clock = clock
        self._ttl = ttl
        self._uploads_per_minute = uploads_per_minute
        self._lock = threading.Lock()
        self._token = ""
        self._issued_at = 0.0
        self._session: str | None = None
        self._device: str | None = None
        self._uploads: deque[float] = deque()
        self.renew()

    def renew(self) -> str:
        """Issue a new token, forget the paired phone; returns the token."""
        with self._lock:
            self._token = secrets.token_urlsafe(32)
            self._issued_at = self._clock()
            self._session = None
            self._device = None
            self._uploads.clear()
            return self._token

    def status(self) -> PairingStatus:
        with self._lock:
            return PairingStatus(
                token=self._token, expires_at=self._issued_at + self._ttl, device=self._device
            )

    def claim(self, token: str, session: str | None, *, device: str) -> str:
        """Pair the phone presenting ``token``; returns its session id.

        ``session`` is the cookie the phone already holds, if any; ``device`` describes
        it (User-Agent). Raises ``PhoneRequestRefused``: 403 for a wrong token or when
        another phone is paired, 410 when the token expired unclaimed.
        """
        with self._lock:
            if not _same(token, self._token):
                raise PhoneRequestRefused(
                    HTTPStatus.FORBIDDEN,
                    "This pairing link is not valid. Scan the QR code on the Hallmark screen.",
                )
            if self._session is not None:
                if session is not None and _same(session, self._session):
                    return self._session
                raise PhoneRequestRefused(
                    HTTPStatus.FORBIDDEN,
                    "Another phone is already paired. Ask for a new QR code to use this one.",
                )
            if self._clock() > self._issued_at + self._ttl:
                raise PhoneRequestRefused(
                    HTTPStatus.GONE,
                    "This pairing link has expired. Ask for a new QR code.",
                )
            self._session = secrets.token_urlsafe(32)
            self._device = device
            return self._session

    def check(self, session: str | None) -> None:
        """Raise ``PhoneRequestRefused`` (401) unless ``session`` is the paired phone's."""
        with self._lock:
            self._check(session)

    def admit_upload(self, session: str | None) -> None:
        """``check``, then count an upload: 429 beyond ``uploads_per_minute``."""
        with self._lock:
            self._check(session)
            now = self._clock()
            while self._uploads and self._uploads[0] <= now - _WINDOW:
                self._uploads.popleft()
            if len(self._uploads) >= self._uploads_per_minute:
                wait = self._uploads[0] + _WINDOW - now
                raise PhoneRequestRefused(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    f"Too many photos: at most {self._uploads_per_minute} a minute. "
                    f"Wait {wait:.0f} s.",
                    retry_after=wait,
                )
            self._uploads.append(now)

    def _check(self, session: str | None) -> None:
        paired = self._session
        if paired is None or session is None or not _same(session, paired):
            raise PhoneRequestRefused(
                HTTPStatus.UNAUTHORIZED,
                "This phone is not paired. Scan the QR code on the Hallmark screen.",
            )


def _same(given: str, secret: str) -> bool:
    """Constant-time comparison; bytes, because ``compare_digest`` refuses non-ASCII text."""
    return secrets.compare_digest(given.encode(), secret.encode())
