"""From an ``EmailMessage`` to what SMTP needs: envelope addresses and wire bytes."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage
from email.utils import getaddresses

from newsletter.errors import InvalidInput

WIRE = email.policy.SMTP


def envelope_of(message: EmailMessage) -> tuple[str, str]:
    """(sender, the one recipient): we never send one message to several people."""
    senders = [a for _, a in getaddresses([str(message.get("From", ""))]) if a]
    recipients = [a for _, a in getaddresses([str(message.get("To", ""))]) if a]
    if len(senders) != 1 or len(recipients) != 1:
        raise InvalidInput("a message needs exactly one From and one To address")
    return senders[0], recipients[0]


def serialize(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=WIRE)
