"""One SMTP connection and one mail transaction on it.

* Replies are turned into our errors by :func:`newsletter.delivery.failures.classify`. A link
  that drops before the message body was handed over means the channel is gone:
  :class:`ChannelClosed` tells the pool to reconnect and resend.
* A link lost (or a reply timing out) after the body and its final ``.`` were written is
  ambiguous: the server may have queued the message. aiosmtplib's ``data()`` cannot tell the
  two cases apart, so DATA is driven here in its two steps.
"""

from __future__ import annotations

import ssl

import aiosmtplib
from aiosmtplib import SMTPResponseException, SMTPServerDisconnected, SMTPTimeoutError

from newsletter.config import SmtpConfig
from newsletter.delivery.failures import ChannelClosed, classify
from newsletter.errors import AmbiguousDeliveryError, DeliveryError, TemporaryDeliveryError

_LOST = (SMTPServerDisconnected, SMTPTimeoutError, ConnectionError, OSError)


def stuffed(data: bytes) -> bytes:
    """The DATA payload: leading dots doubled, CRLF-terminated, then the lone '.' line.

    ``data`` has CRLF line ends (the message layer guarantees it), so a plain bytes replace
    does the dot-stuffing, several times faster than a regular expression.
    """
    body = data.replace(b"\r\n.", b"\r\n..")
    if body.startswith(b"."):
        body = b"." + body
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


class Connection:
    """A connected client plus how many messages it has carried (for recycling)."""

    def __init__(self, config: SmtpConfig, *, tls_context: ssl.SSLContext, timeout: float) -> None:
        self.timeout = timeout
        self.sent = 0
        self.smtp = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.tls == "implicit",
            start_tls=config.tls == "starttls",
            tls_context=tls_context,
            timeout=timeout,
        )

    @property
    def usable(self) -> bool:
        return self.smtp.is_connected

    async def open(self) -> None:
        """Connect (TLS, AUTH as configured) and say EHLO once, up front."""
        try:
            await self.smtp.connect()
            if self.smtp.is_ehlo_or_helo_needed:
                await self.smtp.ehlo()
        except SMTPResponseException as exc:
            self.smtp.close()
            raise TemporaryDeliveryError(f"connect: {exc.message}", code=exc.code) from exc
        except (*_LOST, aiosmtplib.SMTPException, ssl.SSLError) as exc:
            self.smtp.close()
            raise TemporaryDeliveryError(f"cannot connect: {exc}") from exc

    async def transact(self, sender: str, recipient: str, data: bytes) -> str:
        """MAIL, RCPT, DATA for one recipient; returns the server's final reply."""
        try:
            await self._command(b"MAIL", b"FROM:<" + sender.encode() + b">", (250,))
            await self._command(b"RCPT", b"TO:<" + recipient.encode() + b">", (250, 251))
            await self._command(b"DATA", None, (354,))
        except SMTPResponseException as exc:
            error = classify(exc.code, exc.message)
            await self._after_refusal(error)
            raise error from exc
        except _LOST as exc:
            self.smtp.close()
            raise ChannelClosed(f"connection lost before the message was sent: {exc}") from exc
        return await self._body(data)

    async def _command(self, verb: bytes, argument: bytes | None, ok: tuple[int, ...]) -> None:
        """One command; addresses were validated when the message was built, so aiosmtplib's
        address parsing (a noticeable cost per message) is skipped."""
        args = (verb, argument) if argument is not None else (verb,)
        reply = await self.smtp.execute_command(*args)
        if reply.code not in ok:
            raise SMTPResponseException(reply.code, reply.message)

    async def _body(self, data: bytes) -> str:
        protocol = self.smtp.protocol
        try:
            if protocol is None:
                raise SMTPServerDisconnected("connection lost")
            protocol.write(stuffed(data))
            reply = await protocol.read_response(timeout=self.timeout)
        except _LOST as exc:
            self.smtp.close()
            raise AmbiguousDeliveryError(
                f"connection lost after the end of data, before the reply: {exc}"
            ) from exc
        if reply.code != 250:
            error = classify(reply.code, reply.message)
            await self._after_refusal(error)
            raise error
        return f"{reply.code} {' '.join(reply.message.split())}"

    async def _after_refusal(self, error: DeliveryError) -> None:
        """Reset the envelope so the connection can carry the next message; drop it on 421."""
        if isinstance(error, ChannelClosed):
            self.smtp.close()
            return
        try:
            await self.smtp.rset()
        except (*_LOST, SMTPResponseException):
            self.smtp.close()

    async def close(self) -> None:
        """QUIT politely, but never wait long for a server that is going away."""
        if self.smtp.is_connected:
            try:
                await self.smtp.quit(timeout=min(self.timeout, 5.0))
            except (*_LOST, aiosmtplib.SMTPException):
                pass
        self.smtp.close()
