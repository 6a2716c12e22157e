"""Real-format inbound samples (tests/inbound/samples), filled in for one delivery.

``postfix_unknown_user.eml`` is what Postfix 3.7 returned when a digest went to a local user that
does not exist (captured from the real daemon); the others follow RFC 3464's and RFC 5965's
examples, Exim's and Postfix's bounce texts and the headers vacation programs send. In each,
``BOUNCE_ADDRESS`` stands for the digest's VERP envelope sender and ``TOKEN`` for the
reader's unsubscribe token.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).parent / "samples"


def sample(name: str, *, bounce_address: str = "", token: str = "") -> bytes:
    text = (FOLDER / name).read_text(encoding="utf-8")
    text = text.replace("BOUNCE_ADDRESS", bounce_address).replace("TOKEN", token)
    return text.replace("\n", "\r\n").encode("utf-8")
