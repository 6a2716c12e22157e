"""The development mailbox: each message becomes one ``.eml`` file instead of an SMTP send.

It sits behind the same ``Transport`` interface, so a development install runs the real
pipeline (ledger, retries, rendering) end to end. Files are written to a temporary name and
renamed, so a reader (the web app's dev mailbox page) never sees half a message.
"""

from __future__ import annotations

import os
import secrets
import time
from email.message import EmailMessage
from pathlib import Path

from newsletter.delivery.messages.envelope import envelope_of, serialize
from newsletter.errors import TemporaryDeliveryError


class Mailbox:
    """``Transport`` writing ``<time>-<random>.eml`` files into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: EmailMessage) -> str:
        sender, recipient = envelope_of(message)
        return await self.send_raw(sender, recipient, serialize(message))

    async def send_raw(self, sender: str, recipient: str, data: bytes) -> str:
        name = f"{time.time_ns()}-{secrets.token_hex(4)}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.folder / f".{name}.tmp"
            with temporary.open("wb") as handle:
                handle.write(b"Return-Path: <" + sender.encode() + b">\r\n")
                handle.write(b"X-Envelope-To: <" + recipient.encode() + b">\r\n")
                handle.write(data)
            os.replace(temporary, self.folder / name)
        except OSError as exc:
            raise TemporaryDeliveryError(f"mailbox {self.folder}: {exc.strerror}") from exc
        return f"250 saved as {name}"

    async def close(self) -> None:
        return None
