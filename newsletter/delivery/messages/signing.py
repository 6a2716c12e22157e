"""DKIM signing (dkimpy), applied to the exact bytes that go on the wire.

Signing happens in the transport, after serialization, because any later re-encoding of the
message would break the signature. The key is read once at start so a wrong path fails then,
not on the first message.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import dkim

from newsletter.delivery.messages.envelope import envelope_of, serialize
from newsletter.delivery.sending.transport import Transport
from newsletter.errors import ConfigurationError

SIGNED_HEADERS = [
    b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type",
    b"list-id", b"list-unsubscribe", b"list-unsubscribe-post",
]


class Signer:
    def __init__(self, key_path: Path, *, selector: str, domain: str) -> None:
        try:
            self.key = key_path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"DKIM key {key_path}: {exc.strerror}") from None
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("ascii")

    def sign(self, data: bytes) -> bytes:
        """The message with its DKIM-Signature header in front (relaxed/relaxed)."""
        header: bytes = dkim.sign(
            data, self.selector, self.domain, self.key,
            canonicalize=(b"relaxed", b"relaxed"), include_headers=SIGNED_HEADERS,
        )
        return header + data


class SigningTransport:
    """Wraps any transport so every message it carries is signed."""

    def __init__(self, inner: Transport, signer: Signer) -> None:
        self.inner = inner
        self.signer = signer

    async def send(self, message: EmailMessage) -> str:
        sender, recipient = envelope_of(message)
        return await self.send_raw(sender, recipient, serialize(message))

    async def send_raw(self, sender: str, recipient: str, data: bytes) -> str:
        return await self.inner.send_raw(sender, recipient, self.signer.sign(data))

    async def close(self) -> None:
        await self.inner.close()
