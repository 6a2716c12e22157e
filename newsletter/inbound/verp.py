"""VERP envelope senders: each digest's return path names its delivery, signed.

A digest goes out with the envelope sender ``bounces+<delivery id>.<mac>@<sender domain>``, so a
bounce (which goes to the envelope sender, RFC 5321 section 4.5.5) says which delivery failed
even when the bounce itself is unreadable or names a forwarding address. The MAC (HMAC-SHA256
under the secret key, cut to 80 bits, base32) stops anyone who can mail us from bouncing other
people's addresses. Base32 in lower case because some MTAs fold the case of local parts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from newsletter.config import Settings

LOCAL_PART = "bounces"
_TOKEN = re.compile(r"(\d{1,18})\.([a-z2-7]{16})")


def _mac(settings: Settings, delivery_id: int) -> str:
    digest = hmac.new(
        settings.signing_key().encode(), f"newsletter.bounce:{delivery_id}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest[:10]).decode("ascii").lower()


def bounce_address(settings: Settings, delivery_id: int) -> str:
    """The envelope sender for one delivery's message."""
    return f"{LOCAL_PART}+{delivery_id}.{_mac(settings, delivery_id)}@{settings.mail_domain}"


def delivery_of(settings: Settings, address: str) -> int | None:
    """The delivery a ``bounces+...`` address names, or None (not ours, or forged)."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    base, plus, token = local.partition("+")
    if not plus or base.lower() != LOCAL_PART or domain.lower() != settings.mail_domain.lower():
        return None
    found = _TOKEN.fullmatch(token.lower())
    if found is None:
        return None
    delivery_id = int(found.group(1))
    if not hmac.compare_digest(found.group(2), _mac(settings, delivery_id)):
        return None
    return delivery_id
