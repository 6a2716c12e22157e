"""The LMTP door: a local MTA delivers our addresses here, as it does for Mailman 3.

LMTP (RFC 2033) rather than a pipe: the MTA keeps a connection, and after DATA we answer once per
recipient, so a store that is down for one message makes the MTA keep and retry just that
delivery (451), instead of bouncing it. Only addresses of our own mail domain are accepted; any
other RCPT is refused (550), so a misrouted domain shows in the MTA's log, not as silent loss.
The Postfix side is a ``transport_maps`` line (see README, "Inbound mail").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.lmtp import LMTP
from sqlalchemy.exc import SQLAlchemyError

from newsletter.inbound.processor import MAX_MESSAGE_BYTES, Processor

log = logging.getLogger(__name__)


class LmtpHandler:
    """aiosmtpd handler hooks: RCPT checks the domain, DATA hands the message over."""

    def __init__(self, processor: Processor) -> None:
        self.processor = processor
        self.domain = processor.settings.mail_domain.lower()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.rpartition("@")[2].lower() != self.domain:
            return f"550 5.1.1 <{address}>: not a mailbox of {self.domain}"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")
        replies = []
        for recipient in envelope.rcpt_tos:
            try:
                await asyncio.to_thread(self.processor.handle, data, [recipient], source="lmtp")
            except SQLAlchemyError as exc:
                log.error("inbound mail to %s kept by the MTA: database: %s", recipient, exc)
                replies.append(f"451 4.3.0 <{recipient}>: temporary failure, try again later")
            else:
                replies.append(f"250 2.0.0 <{recipient}> OK")
        return "\r\n".join(replies)  # LMTP: one reply per recipient


class LmtpServer:
    """An LMTP listener on the running event loop."""

    def __init__(self, processor: Processor, *, host: str, port: int) -> None:
        self.handler = LmtpHandler(processor)
        self.host = host
        self.port = port
        self._server: asyncio.base_events.Server | None = None

    def protocol(self) -> LMTP:
        """One LMTP session (a protocol instance per connection, as asyncio servers want)."""
        return LMTP(
            self.handler, hostname=self.handler.domain, ident="newsletter LMTP",
            data_size_limit=MAX_MESSAGE_BYTES, enable_SMTPUTF8=True,
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self.protocol, host=self.host, port=self.port)
        sockets = self._server.sockets
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("LMTP listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def serve_until(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
