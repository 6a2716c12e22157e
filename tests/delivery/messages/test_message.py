"""Message layout: parts, headers, no header injection, DKIM that verifies."""

from __future__ import annotations

import email
import email.policy
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest

from newsletter.config import Settings
from newsletter.delivery.messages.message import MessageTemplate, build_message, validate_address
from newsletter.delivery.messages.signing import Signer
from newsletter.errors import InvalidInput
from newsletter.render import RenderedEmail
from newsletter.render.personal import placeholders

NOW = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
RENDERED = RenderedEmail(
    subject="Über <script> papers\r\nBcc: victim@example.org",
    text="Héllo\nline two. with a long line " + "x" * 200 + "\n.leading dot\n",
    html="<html><body><p>Héllo &amp; <b>bold</b></p></body></html>",
)


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_build_message_layout(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(sender_address="digest@papers.example.org", list_id="papers")
    message = build_message(
        settings, to="Reader@Example.org", rendered=RENDERED, now=NOW,
        unsubscribe_url="https://papers.example.org/unsubscribe/tok",
        unsubscribe_mailto="mailto:digest@papers.example.org?subject=unsubscribe%20tok",
    )
    assert message.get_content_type() == "multipart/alternative"
    plain, html = (part for part in message.iter_parts())
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert plain.get_content_charset() == "utf-8"
    assert plain.get_content().replace("\r\n", "\n") == RENDERED.text
    assert "Héllo &amp; <b>bold</b>" in html.get_content()
    assert message["Subject"] == "Über <script> papers Bcc: victim@example.org"
    assert message["Bcc"] is None
    assert message["Message-ID"].endswith("@papers.example.org>")
    assert message["Date"] == "Wed, 01 May 2024 07:00:00 +0000"
    assert message["List-Id"] == '"Trending Papers" <papers.papers.example.org>'
    assert message["List-Unsubscribe"] == (
        "<https://papers.example.org/unsubscribe/tok>, "
        "<mailto:digest@papers.example.org?subject=unsubscribe%20tok>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_wire_format_is_7bit_crlf_and_short_lines(make_settings: Callable[..., Settings]) -> None:
    template = MessageTemplate(make_settings(), RENDERED, {})
    data = template.fill(to="a@example.org", now=NOW, message_id="<1.x@localhost>")
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78


def test_holes_are_filled_per_recipient(make_settings: Callable[..., Settings]) -> None:
    holes = placeholders()
    shared = RenderedEmail(
        subject="s",
        text=f"to {holes['recipient']} unsubscribe {holes['unsubscribe_url']}\n",
        html=f'<a href="{holes["unsubscribe_url"]}">u</a> {holes["recipient"]}',
    )
    template = MessageTemplate(make_settings(), shared, holes)
    values = {"recipient": "a@example.org", "preferences_url": "https://x/p",
              "unsubscribe_url": "https://x/u?a=1&b=" + "z" * 120}
    message = parse(template.fill(to="a@example.org", now=NOW, message_id="<1.x@localhost>",
                                  values=values))
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    text = text.replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert text == f"to a@example.org unsubscribe {values['unsubscribe_url']}\n"
    assert html.startswith('<a href="https://x/u?a=1&amp;b=zzz')
    assert html.rstrip().endswith("</a> a@example.org")


@pytest.mark.parametrize(
    "address", ["a@b.org\r\nBcc: c@d.org", "a b@c.org", "<a@b.org>", "a@b.org, c@d.org", "nope"]
)
def test_bad_addresses_are_refused(address: str, make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(InvalidInput):
        validate_address(address)
    with pytest.raises(InvalidInput):
        build_message(make_settings(), to=address, rendered=RENDERED, now=NOW)


def test_bad_list_unsubscribe_link_is_refused(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(InvalidInput):
        build_message(make_settings(), to="a@b.org", rendered=RENDERED, now=NOW,
                      unsubscribe_url="https://x/u>\r\nBcc: c@d.org")


def test_idn_domain_becomes_punycode() -> None:
    assert validate_address("a@bücher.example") == "a@xn--bcher-kva.example"


def test_dkim_signature_verifies(tmp_path: Path, make_settings: Callable[..., Settings]) -> None:
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
                   check=True, capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                            check=True, capture_output=True).stdout
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    settings = make_settings(sender_address="digest@papers.example.org")
    data = MessageTemplate(settings, RENDERED, {}).fill(
        to="a@example.org", now=NOW, message_id="<1.x@papers.example.org>"
    )
    signed = Signer(key, selector="sel", domain="papers.example.org").sign(data)
    assert signed.startswith(b"DKIM-Signature:")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"sel._domainkey.papers.example.org."
        return record

    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(signed.replace(b"line two", b"line 2"), dnsfunc=dns)


def test_composer_mailto_matches_tokens_module(make_settings: Callable[..., Settings]) -> None:
    from newsletter.delivery.messages.compose import mailto
    from newsletter.store.models import Subscriber
    from newsletter.tokens import Purpose, link, unsubscribe_mailto

    settings = make_settings()
    person = Subscriber(id=7, email="a@example.org")
    for _ in range(3):  # tokens carry a timestamp in seconds: retry across a second boundary
        token = link(settings, Purpose.UNSUBSCRIBE, person).rpartition("/")[2]
        if mailto(settings, token) == unsubscribe_mailto(settings, person):
            return
    raise AssertionError("compose.mailto no longer matches tokens.unsubscribe_mailto")
