"""A pool of reused SMTP connections, paced by a rate limit.

Opening a connection (TCP, TLS, EHLO, AUTH) costs several round trips, so connections carry
many messages and are recycled after ``smtp_messages_per_connection`` (relays often cap a
session). All connections share ONE ``SSLContext``: building one per connection re-reads the
CA bundle every time. Up to ``size`` messages are in flight, one per connection.
"""

from __future__ import annotations

import asyncio
import ssl
from email.message import EmailMessage

from newsletter.config import SmtpConfig
from newsletter.delivery.failures import ChannelClosed
from newsletter.delivery.messages.envelope import envelope_of, serialize
from newsletter.delivery.sending.connection import Connection


class SendPacer:
    """At most ``rate`` starts per second, spaced evenly (0 = unlimited)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = asyncio.get_running_loop().time()
        slot = max(self._next, now)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class SmtpPool:
    """``Transport`` over SMTP; safe to share between the tasks of one event loop."""

    def __init__(
        self,
        config: SmtpConfig,
        *,
        size: int,
        messages_per_connection: int,
        timeout: float,
        rate_limit: float = 0.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.size = size
        self.messages_per_connection = messages_per_connection
        self.timeout = timeout
        self.tls_context = tls_context or ssl.create_default_context()
        self.limiter = SendPacer(rate_limit)
        self.connections_opened = 0
        self._slots = asyncio.Semaphore(size)
        self._idle: list[Connection] = []
        self._closing: set[asyncio.Task[None]] = set()

    async def send(self, message: EmailMessage) -> str:
        sender, recipient = envelope_of(message)
        return await self.send_raw(sender, recipient, serialize(message))

    async def send_raw(self, sender: str, recipient: str, data: bytes) -> str:
        """Send one message; raises Temporary/Permanent/AmbiguousDeliveryError.

        If the channel closed under us (421, a stale idle link) the message is resent once on
        a fresh connection: nothing of it was accepted, so this cannot duplicate it.
        """
        await self.limiter.wait()
        async with self._slots:
            connection = self._idle.pop() if self._idle else None
            try:
                for retry in (False, True):
                    if connection is None or not connection.usable:
                        connection = None
                        connection = await self._open()
                    try:
                        reply = await connection.transact(sender, recipient, data)
                    except ChannelClosed:
                        if retry:
                            raise
                        continue
                    connection.sent += 1
                    return reply
                raise AssertionError("unreachable")  # pragma: no cover
            finally:
                self._release(connection)

    async def _open(self) -> Connection:
        connection = Connection(self.config, tls_context=self.tls_context, timeout=self.timeout)
        await connection.open()
        self.connections_opened += 1
        return connection

    def _release(self, connection: Connection | None) -> None:
        if connection is None:
            return
        if connection.usable and connection.sent < self.messages_per_connection:
            self._idle.append(connection)
            return
        task = asyncio.create_task(connection.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(c.close() for c in idle), *self._closing, return_exceptions=True)
