"""A real SMTP server for tests (aiosmtpd on loopback) that can be told to misbehave.

Like Mailman's test server: ``fail_next("RCPT", "550 5.1.1 No such user")`` answers the next
RCPT with that reply; ``drop_next("DATA")`` closes the connection after the final '.' without
replying (the ambiguous case); ``stall_next("MAIL", 5)`` waits before replying.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.network import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Fault:
    command: str
    reply: str | None = None
    drop: bool = False
    stall: float = 0.0
    address: str | None = None  # only for this recipient (RCPT and DATA)


@dataclass
class Recorder:
    """The handler: records accepted mail and plays queued faults."""

    received: list[Received] = field(default_factory=list)
    connections: int = 0
    faults: deque[_Fault] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    per_connection: int | None = None  # answer MAIL with 421 and hang up after this many

    def _take(self, command: str, addresses: Sequence[str] = ()) -> _Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.command == command and (
                    fault.address is None or fault.address in addresses
                ):
                    self.faults.remove(fault)
                    return fault
        return None

    async def _play(self, command: str, server: SMTP, addresses: Sequence[str] = ()) -> str | None:
        fault = self._take(command, addresses)
        if fault is None:
            return None
        if fault.stall:
            await asyncio.sleep(fault.stall)
        if fault.drop:
            assert server.transport is not None
            server.transport.close()
            return "421 4.3.0 connection dropped by test"  # never reaches the client
        return fault.reply

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        carried = getattr(session, "carried", 0)
        if self.per_connection is not None and carried >= self.per_connection:
            server.loop.call_soon(_hang_up, server)
            return "421 4.7.0 too many messages on this connection, closing"
        reply = await self._play("MAIL", server)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = await self._play("RCPT", server, [address])
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = self._take("DATA", envelope.rcpt_tos)
        if fault is not None:
            if fault.stall:
                await asyncio.sleep(fault.stall)
            if fault.drop:
                # The whole message arrived, but the client never hears back: ambiguous.
                self._record(envelope)
                assert server.transport is not None
                server.transport.close()
                return "250 never sent"
            if fault.reply:
                return fault.reply
        self._record(envelope)
        session.carried = getattr(session, "carried", 0) + 1  # type: ignore[attr-defined]
        return "250 2.0.0 Message accepted"

    def _record(self, envelope: Envelope) -> None:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), content)
            )


def _hang_up(server: SMTP) -> None:
    if server.transport is not None:
        server.transport.close()


class SmtpServer:
    """Start/stop an aiosmtpd controller on 127.0.0.1 with a free port."""

    def __init__(self, **smtp_kwargs: Any) -> None:
        self.recorder = Recorder()
        # aiosmtpd's start() connects to ``port`` to check the server is up, so port 0 cannot
        # be used: pick a free port first.
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=free_port(), **smtp_kwargs
        )

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        server = self.controller.server
        assert server is not None
        port: int = server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}?tls=none"

    @property
    def received(self) -> list[Received]:
        with self.recorder.lock:
            return list(self.recorder.received)

    @property
    def connections(self) -> int:
        return self.recorder.connections

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]

    def fail_next(self, command: str, reply: str, times: int = 1) -> None:
        """Answer the next ``times`` MAIL/RCPT/DATA commands with ``reply`` ('451 4.3.0 busy')."""
        with self.recorder.lock:
            self.recorder.faults.extend(_Fault(command, reply=reply) for _ in range(times))

    def drop_next(self, command: str, times: int = 1) -> None:
        """Close the connection at the next MAIL/RCPT/DATA, without a reply."""
        with self.recorder.lock:
            self.recorder.faults.extend(_Fault(command, drop=True) for _ in range(times))

    def fail_for(self, address: str, command: str, reply: str, times: int = 1) -> None:
        """Like ``fail_next`` but only for messages to ``address`` (RCPT or DATA)."""
        with self.recorder.lock:
            self.recorder.faults.extend(
                _Fault(command, reply=reply, address=address) for _ in range(times)
            )

    def drop_for(self, address: str, command: str, times: int = 1) -> None:
        """Like ``drop_next`` but only for messages to ``address`` (RCPT or DATA)."""
        with self.recorder.lock:
            self.recorder.faults.extend(
                _Fault(command, drop=True, address=address) for _ in range(times)
            )

    def close_after(self, messages: int) -> None:
        """Like many relays: 421 and hang up once a connection has carried ``messages``."""
        self.recorder.per_connection = messages

    def stall_next(self, command: str, seconds: float, times: int = 1) -> None:
        with self.recorder.lock:
            self.recorder.faults.extend(_Fault(command, stall=seconds) for _ in range(times))
