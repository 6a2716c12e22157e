"""Everything that keeps strangers from misusing the public pages.

* CSRF: a random value in a cookie plus a signed, timestamped copy in a hidden field
  (double submit). A forged cross-site post has neither, and the signature means a value
  planted in a cookie by a sibling subdomain is useless without our key. An ``Origin`` from
  another site is refused even with a good token.
* Security headers and a last-resort error page, in one pure ASGI middleware so they also cover
  responses for errors that escape every handler.
* A body size cap, so nobody makes us parse megabytes of form data.
* A per-client sliding-window rate limit, in memory: one process serves one machine.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsletter.config import Settings

log = logging.getLogger(__name__)

CSRF_COOKIE = "newsletter_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_SECONDS = 24 * 3600
MAX_BODY_BYTES = 64 * 1024

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
# strict-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on our own
# form posts, which the Origin check must refuse. Only the origin ever leaves, never a path
# (preference links carry their token in the path).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)


class CsrfError(Exception):
    """A state-changing post that we cannot prove came from our own form."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Csrf:
    """Double-submit tokens: cookie value ``v``; the form carries ``sign(v)`` with a timestamp."""

    def __init__(self, settings: Settings) -> None:
        self.serializer = URLSafeTimedSerializer(settings.signing_key(), salt="newsletter.csrf")
        self.secure_cookie = settings.base_url.startswith("https://")

    def form_token(self, request: Request) -> str:
        """The hidden-field value for this visitor; remembers a new cookie to set if needed."""
        value = request.cookies.get(CSRF_COOKIE, "")
        if not _plausible(value):
            value = getattr(request.state, "csrf_new_cookie", "") or secrets.token_urlsafe(24)
            request.state.csrf_new_cookie = value
        return str(self.serializer.dumps(value))

    def set_cookie(self, request: Request, response: Response) -> None:
        value = getattr(request.state, "csrf_new_cookie", "")
        if value:
            response.set_cookie(
                CSRF_COOKIE,
                value,
                max_age=CSRF_MAX_AGE_SECONDS,
                httponly=True,
                samesite="lax",
                secure=self.secure_cookie,
                path="/",
            )

    def verify(self, request: Request, submitted: str) -> None:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not submitted:
            raise CsrfError("the form was sent without its security token")
        if not _plausible(cookie):
            raise CsrfError("your browser did not send back our cookie (are cookies blocked?)")
        try:
            value = self.serializer.loads(submitted, max_age=CSRF_MAX_AGE_SECONDS)
        except SignatureExpired:
            raise CsrfError("the form was open for too long") from None
        except BadSignature:
            raise CsrfError("the form's security token is not valid") from None
        if not isinstance(value, str) or not secrets.compare_digest(value, cookie):
            raise CsrfError("the form's security token does not match this browser")


def _plausible(value: str) -> bool:
    return 16 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()


def check_origin(request: Request, settings: Settings) -> None:
    """Refuse a post whose Origin (or, failing that, Referer) names another site.

    A post without either header (curl, old clients) is left to the CSRF token. Our own origin is
    the public ``base_url`` or the address the browser used to reach us (same origin).
    """
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    allowed = {_origin_of(settings.base_url), _origin_of(str(request.base_url))}
    if origin.rstrip("/").lower() not in allowed:
        raise CsrfError("the form was sent from another website")


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass
class ClientRateLimit:
    """At most ``limit`` events per ``window`` seconds per key (sliding window)."""

    limit: int
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _events: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_sweep: float = 0.0

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            self._sweep(now)
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True

    def retry_after(self, key: str) -> int:
        with self._lock:
            events = self._events.get(key)
            if not events:
                return 0
            return max(1, int(events[0] + self.window - self.clock()) + 1)

    def _sweep(self, now: float) -> None:
        """Forget idle clients now and then, so the table cannot grow without bound."""
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        idle = [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]
        for key in idle:
            del self._events[key]


def client_address(request: Request) -> str:
    """The peer address; uvicorn rewrites it from X-Forwarded-For only for trusted proxies."""
    return request.client.host if request.client else "unknown"


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Answer 413 to any request body over ``limit`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            raise BodyTooLarge()
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)


ErrorPage = Callable[[int], bytes]


class SecurityHeaders:
    """Adds the security headers to every response, and turns escaped errors into our pages.

    It sits outside everything else, so even a crash mid-request gets a plain page with the
    headers instead of Starlette's default text or, worse, a traceback.
    """

    def __init__(self, app: ASGIApp, error_page: ErrorPage) -> None:
        self.app = app
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        path = str(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                message["headers"] = _add_headers(headers, cacheable=path.startswith("/static/"))
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except BodyTooLarge:
            if started:
                raise
            await self._page(413, with_headers)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await self._page(500, with_headers)

    async def _page(self, status: int, send: Send) -> None:
        body = self.error_page(status)
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _add_headers(
    headers: list[tuple[bytes, bytes]], *, cacheable: bool = False
) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    for name, value in SECURITY_HEADERS:
        if name not in present:
            headers.append((name, value))
    if b"content-security-policy" not in present:
        headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    if b"cache-control" not in present:
        # Pages hold CSRF tokens and personal settings: never keep them in shared caches.
        headers.append((b"cache-control", b"public, max-age=3600" if cacheable else b"no-store"))
    return headers
