"""One-off emails (confirm, manage, welcome, preferences changed, unsubscribed).

They are sent while a person waits on a web page, so a temporary failure gets a couple of
quick retries here instead of the ledger's long backoff; anything else is raised for the
caller to report. An ambiguous send is raised too and never retried: the person can ask again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from newsletter.config import Settings
from newsletter.delivery.messages.message import (
    build_message_bytes,
    new_message_id,
    validate_address,
)
from newsletter.delivery.sending.transport import Transport
from newsletter.errors import TemporaryDeliveryError
from newsletter.render import render_email

QUICK_RETRIES = (0.5, 2.0)


async def send_email(
    settings: Settings,
    transport: Transport,
    *,
    name: str,
    to: str,
    context: Mapping[str, Any],
    now: datetime,
    unsubscribe_url: str | None = None,
    retry_delays: Sequence[float] = QUICK_RETRIES,
) -> str:
    """Render ``name`` with ``context``, send it to ``to``; returns the Message-ID."""
    message_id = new_message_id(settings)
    recipient = validate_address(to)
    data = build_message_bytes(
        settings,
        to=recipient,
        rendered=render_email(name, context),
        now=now,
        unsubscribe_url=unsubscribe_url,
        message_id=message_id,
    )
    for delay in (*retry_delays, None):
        try:
            await transport.send_raw(settings.sender_address, recipient, data)
            return message_id
        except TemporaryDeliveryError:
            if delay is None:
                raise
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
