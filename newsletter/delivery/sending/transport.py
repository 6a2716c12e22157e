"""How messages leave: the ``Transport`` interface and the choice made from settings.

``send`` takes an ``EmailMessage`` (one-off emails); ``send_raw`` takes bytes already laid out
by :mod:`newsletter.delivery.messages.message` (digests, where serializing through the email package
would cost more than sending). Both return the server's reply or raise
Temporary/Permanent/AmbiguousDeliveryError.
"""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from typing import Protocol

from newsletter.config import Settings


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> str: ...

    async def send_raw(self, sender: str, recipient: str, data: bytes) -> str: ...

    async def close(self) -> None: ...


def make_transport(settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> Transport:
    """SMTP pool when ``smtp_url`` is set, else the development mailbox; DKIM-signed if keyed.

    Must be called inside the event loop that will use it (the pool holds asyncio primitives).
    """
    from newsletter.delivery.messages.signing import Signer, SigningTransport
    from newsletter.delivery.sending.mailbox import Mailbox
    from newsletter.delivery.sending.pool import SmtpPool

    config = settings.smtp()
    transport: Transport
    if config is None:
        transport = Mailbox(settings.mailbox_path)
    else:
        transport = SmtpPool(
            config,
            size=settings.smtp_pool_size,
            messages_per_connection=settings.smtp_messages_per_connection,
            timeout=settings.smtp_timeout,
            rate_limit=settings.smtp_rate_limit,
            tls_context=tls_context,
        )
    if settings.dkim_private_key_path is not None:
        signer = Signer(
            settings.dkim_private_key_path,
            selector=settings.dkim_selector,
            domain=settings.mail_domain,
        )
        transport = SigningTransport(transport, signer)
    return transport
