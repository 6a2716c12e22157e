"""The IMAP door: poll a mailbox (a hosted relay's bounce address) with the standard imaplib.

Each poll fetches the messages not yet handled (``BODY.PEEK``, so fetching marks nothing), hands
each to the processor, and only after the processor has committed marks it ``\\Seen`` plus the
keyword ``NewsletterHandled``; the next poll searches for messages without that keyword (or, on
a server that allows no keywords, unseen ones). A crash between the commit and the flag means the
message is fetched again, and the record's fingerprint makes that second pass change nothing.
A database failure stops the poll with the message unflagged, to be tried next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from newsletter.config import ImapConfig
from newsletter.errors import NewsletterError
from newsletter.inbound.processor import Processor

log = logging.getLogger(__name__)
KEYWORD = "NewsletterHandled"
TIMEOUT_SECONDS = 60.0


class MailboxError(NewsletterError):
    """The inbound mailbox could not be read this time; the next poll tries again."""


@dataclass
class PollResult:
    fetched: int = 0
    handled: int = 0
    by_kind: dict[str, int] | None = None


def _connect(config: ImapConfig, timeout: float) -> imaplib.IMAP4:
    if config.tls == "implicit":
        return imaplib.IMAP4_SSL(config.host, config.port, ssl_context=ssl.create_default_context(),
                                 timeout=timeout)
    client = imaplib.IMAP4(config.host, config.port, timeout=timeout)
    if config.tls == "starttls":
        client.starttls(ssl.create_default_context())
    return client


def _ok(answer: tuple[str, Sequence[object]], what: str) -> Sequence[object]:
    status, data = answer
    if status != "OK":
        raise MailboxError(f"IMAP {what}: {status} {data!r}"[:300])
    return data


def _message_bytes(data: Sequence[object]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def poll_once(config: ImapConfig, processor: Processor, *, timeout: float = TIMEOUT_SECONDS
              ) -> PollResult:
    """Handle every message not yet handled; MailboxError when the server cannot be used."""
    result = PollResult(by_kind={})
    try:
        client = _connect(config, timeout)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"cannot reach {config.host}:{config.port}: {exc}") from exc
    try:
        _ok(client.login(config.username, config.password), "LOGIN")
        _ok(client.select(_quoted(config.mailbox)), f"SELECT {config.mailbox}")
        _, flags = client.response("PERMANENTFLAGS")
        keywords = any(isinstance(f, bytes) and b"\\*" in f for f in flags or [])
        query = f"UNKEYWORD {KEYWORD}" if keywords else "UNSEEN"
        found = _ok(client.uid("SEARCH", None, query), "SEARCH")  # type: ignore[arg-type]
        uids = found[0].split() if found and isinstance(found[0], bytes) else []
        mark = f"(\\Seen {KEYWORD})" if keywords else "(\\Seen)"
        for uid in uids:
            raw = _message_bytes(_ok(client.uid("FETCH", uid.decode(), "(BODY.PEEK[])"), "FETCH"))
            result.fetched += 1
            if raw is None:
                continue
            handled = processor.handle(raw, [], source="imap")
            _ok(client.uid("STORE", uid.decode(), "+FLAGS", mark), "STORE")
            result.handled += 1
            assert result.by_kind is not None
            result.by_kind[handled.kind.value] = result.by_kind.get(handled.kind.value, 0) + 1
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"{config.host}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    return result


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def poll_forever(
    config: ImapConfig, processor: Processor, *, interval: float, stop: asyncio.Event
) -> None:
    """Poll every ``interval`` seconds in a worker thread until ``stop``; errors are logged and
    the next poll tries again (a relay's mailbox being down must not stop the service)."""
    while not stop.is_set():
        try:
            result = await asyncio.to_thread(poll_once, config, processor)
            if result.fetched:
                log.info("inbound mailbox: %s handled %s", result.handled, result.by_kind)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # MailboxError, a database outage: next poll tries again
            log.warning("inbound mailbox poll failed, will retry: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
