"""HTTP for sources: one client factory, polite retries, conditional requests, a size cap.

Retries cover what is worth retrying (429, 5xx, dropped connections) with exponential backoff that
honours ``Retry-After``; anything else becomes a :class:`SourceError` at once, so the runner can
report the source and try again on the next run. ETag / Last-Modified validators are kept in memory
for the process: a 304 means "nothing new" and costs the server nothing. Bodies are streamed and
the read stops past ``max_bytes`` (``NEWSLETTER_HTTP_MAX_BYTES``), so a runaway answer costs that
much memory at most, never the size it claims or turns out to have. The cap counts decoded bytes,
so a small gzip answer that inflates to gigabytes stops at the cap too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from newsletter import __version__
from newsletter.config import Settings
from newsletter.errors import SourceError
from newsletter.sources.pacing import Pacer

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_BYTES = 32_000_000
ERROR_BODY_BYTES = 65_536  # kept from an error answer, for its reason
Params = Mapping[str, str | int]


class HttpStatusError(SourceError):
    """The server answered with a status we do not retry (or stopped retrying).

    ``body`` keeps the start of the answer: sources whose errors come as a document (arXiv's
    RSS error feed) read their reason from it; a JSON ``{"error": ...}`` is quoted directly.
    """

    def __init__(self, url: str, status: int, detail: str = "", body: bytes = b"") -> None:
        self.status = status
        self.body = body
        reason = _json_error(body)
        super().__init__(f"{url}: HTTP {status}{detail}" + (f": {reason}" if reason else ""))


class ResponseTooLarge(SourceError):
    """The answer passed ``NEWSLETTER_HTTP_MAX_BYTES``; the rest of it was never read."""


def _json_error(body: bytes) -> str | None:
    """Hugging Face answers errors as ``{"error": "..."}``."""
    if not body.lstrip().startswith(b"{"):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return " ".join(str(error).split())[:200] if error else None


def user_agent(settings: Settings) -> str:
    """Names the project, its version and where to reach the operator, as API terms ask."""
    return f"newsletter/{__version__} (+{settings.base_url}; mailto:{settings.sender_address})"


def make_client(settings: Settings, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(settings.http_timeout),
        headers={"User-Agent": user_agent(settings)},
        follow_redirects=True,
        transport=transport,
    )


class Validators:
    """ETag and Last-Modified per URL, remembered for the life of the process."""

    def __init__(self) -> None:
        self._by_url: dict[str, tuple[str | None, str | None]] = {}

    def headers(self, url: str) -> dict[str, str]:
        etag, modified = self._by_url.get(url, (None, None))
        headers = {"If-None-Match": etag} if etag else {}
        if modified:
            headers["If-Modified-Since"] = modified
        return headers

    def update(self, entries: Mapping[str, tuple[str | None, str | None]]) -> None:
        self._by_url.update(entries)

    def clear(self) -> None:
        self._by_url.clear()


PROCESS_VALIDATORS = Validators()


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header: a number, or an HTTP date (against ``Date``)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
        sent = response.headers.get("Date")
        reference = parsedate_to_datetime(sent) if sent else datetime.now(UTC)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - reference).total_seconds())


class HttpFetcher:
    """GETs with retries for one source run; validators are kept only once the run succeeded."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 4,
        backoff: float = 2.0,
        max_delay: float = 120.0,
        pacer: Pacer | None = None,
        validators: Validators = PROCESS_VALIDATORS,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.client = client
        self.max_bytes = max_bytes
        self._sleep = sleep
        self._attempts = attempts
        self._backoff = backoff
        self._max_delay = max_delay
        self._pacer = pacer
        self._validators = validators
        self._pending: dict[str, tuple[str | None, str | None]] = {}

    def get(self, url: str, params: Params | None = None) -> httpx.Response | None:
        """The response, or None when the server says nothing changed since our last visit."""
        key = str(httpx.URL(url, params=params))
        headers = self._validators.headers(key)
        for attempt in range(1, self._attempts + 1):
            if self._pacer is not None:
                self._pacer.wait()
            try:
                response = self._get(url, params, headers)
            except httpx.TransportError as exc:
                if attempt == self._attempts:
                    raise SourceError(f"{url}: {type(exc).__name__} {exc}".strip()) from exc
                self._sleep(self._delay(attempt, None))
                continue
            if response.status_code == 304:
                return None
            if response.status_code in RETRY_STATUSES and attempt < self._attempts:
                delay = self._delay(attempt, retry_after(response))
                if delay > self._max_delay:
                    raise HttpStatusError(url, response.status_code, f", retry in {delay:.0f} s")
                self._sleep(delay)
                continue
            if response.status_code != 200:
                tried = f" after {attempt} attempts" if attempt > 1 else ""
                body = response.content[:ERROR_BODY_BYTES]
                raise HttpStatusError(url, response.status_code, tried, body)
            etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
            if etag or modified:
                self._pending[key] = (etag, modified)
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _get(self, url: str, params: Params | None, headers: dict[str, str]) -> httpx.Response:
        """One GET, its body read in chunks and abandoned past the cap (error bodies are kept
        only in part: their reason is at the start)."""
        with self.client.stream("GET", url, params=params, headers=headers) as streamed:
            declared = streamed.headers.get("Content-Length", "")
            limit = self.max_bytes if streamed.status_code == 200 else ERROR_BODY_BYTES
            if streamed.status_code == 200 and declared.isdigit() and int(declared) > limit:
                raise ResponseTooLarge(
                    f"{url}: the answer is {int(declared):,} bytes, more than the "
                    f"{limit:,} allowed (NEWSLETTER_HTTP_MAX_BYTES)"
                )
            body = bytearray()
            for chunk in streamed.iter_bytes():
                body += chunk
                if len(body) > limit:
                    if streamed.status_code != 200:
                        del body[limit:]
                        break
                    raise ResponseTooLarge(
                        f"{url}: stopped reading after {limit:,} bytes "
                        "(NEWSLETTER_HTTP_MAX_BYTES); the answer is larger"
                    )
        headers_out = [
            (k, v) for k, v in streamed.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            streamed.status_code,
            headers=headers_out,
            content=bytes(body),
            request=streamed.request,
        )

    def _delay(self, attempt: int, asked: float | None) -> float:
        if asked is not None:
            return asked
        return min(self._backoff * 2.0 ** (attempt - 1), self._max_delay)

    def commit(self) -> None:
        """The run's data is stored: from now on a 304 for these URLs really means nothing new."""
        self._validators.update(self._pending)
        self._pending.clear()
