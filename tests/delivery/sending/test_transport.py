"""The SMTP pool and the dev mailbox against a real server, including its faults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.config import Settings
from newsletter.delivery.messages.message import MessageTemplate
from newsletter.delivery.sending.mailbox import Mailbox
from newsletter.delivery.sending.pool import SmtpPool
from newsletter.delivery.sending.transactional import send_email
from newsletter.delivery.sending.transport import make_transport
from newsletter.errors import (
    AmbiguousDeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from newsletter.render import RenderedEmail
from newsletter.render.contexts import confirm_context
from tests.smtp_server import SmtpServer

NOW = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)
SENDER = "digest@localhost"


def wire(settings: Settings, to: str) -> bytes:
    rendered = RenderedEmail("Hello", "text body\n", "<p>html body</p>")
    return MessageTemplate(settings, rendered, {}).fill(
        to=to, now=NOW, message_id=f"<{to.split('@')[0]}.1@localhost>"
    )


def pool(
    server: SmtpServer, make_settings: Callable[..., Settings], **overrides: object
) -> SmtpPool:
    values: dict[str, object] = {"smtp_timeout": 5.0, **overrides}
    settings = make_settings(smtp_url=server.url, **values)
    transport = make_transport(settings)
    assert isinstance(transport, SmtpPool)
    return transport


async def test_connections_are_reused_and_recycled(
    smtp_server: SmtpServer, make_settings: Callable[..., Settings]
) -> None:
    smtp = pool(smtp_server, make_settings, smtp_pool_size=1, smtp_messages_per_connection=2)
    settings = make_settings()
    for n in range(5):
        to = f"r{n}@example.org"
        reply = await smtp.send_raw(SENDER, to, wire(settings, to))
        assert reply.startswith("250")
    await smtp.close()
    assert len(smtp_server.received) == 5
    assert smtp_server.connections == 3
    assert smtp_server.messages_to("r4@example.org")[0]["Subject"] == "Hello"


@pytest.mark.parametrize(
    ("command", "reply", "error"),
    [
        ("RCPT", "451 4.3.0 busy", TemporaryDeliveryError),
        ("MAIL", "452 4.3.1 insufficient storage", TemporaryDeliveryError),
        ("DATA", "552 5.2.2 mailbox full", TemporaryDeliveryError),
        ("RCPT", "550 5.1.1 no such user", PermanentDeliveryError),
        ("DATA", "554 5.7.1 rejected", PermanentDeliveryError),
    ],
)
async def test_replies_are_classified_and_connection_survives(
    command: str,
    reply: str,
    error: type[Exception],
    smtp_server: SmtpServer,
    make_settings: Callable[..., Settings],
) -> None:
    smtp = pool(smtp_server, make_settings, smtp_pool_size=1)
    settings = make_settings()
    smtp_server.fail_next(command, reply)
    with pytest.raises(error) as caught:
        await smtp.send_raw(SENDER, "a@example.org", wire(settings, "a@example.org"))
    assert str(caught.value).startswith(reply[:3])
    await smtp.send_raw(SENDER, "b@example.org", wire(settings, "b@example.org"))
    await smtp.close()
    assert [r.rcpt_tos for r in smtp_server.received] == [["b@example.org"]]
    assert smtp_server.connections == 1


async def test_421_reconnects_and_resends(
    smtp_server: SmtpServer, make_settings: Callable[..., Settings]
) -> None:
    smtp = pool(smtp_server, make_settings, smtp_pool_size=1)
    smtp_server.fail_next("RCPT", "421 4.3.2 closing, too many messages")
    await smtp.send_raw(SENDER, "a@example.org", wire(make_settings(), "a@example.org"))
    await smtp.close()
    assert len(smtp_server.messages_to("a@example.org")) == 1
    assert smtp_server.connections == 2


async def test_dropped_link_before_data_is_resent_once_then_temporary(
    smtp_server: SmtpServer, make_settings: Callable[..., Settings]
) -> None:
    smtp = pool(smtp_server, make_settings, smtp_pool_size=1)
    settings = make_settings()
    smtp_server.drop_next("MAIL")
    await smtp.send_raw(SENDER, "a@example.org", wire(settings, "a@example.org"))
    smtp_server.drop_next("RCPT", times=2)
    with pytest.raises(TemporaryDeliveryError):
        await smtp.send_raw(SENDER, "b@example.org", wire(settings, "b@example.org"))
    await smtp.close()
    assert [r.rcpt_tos for r in smtp_server.received] == [["a@example.org"]]


async def test_link_lost_after_final_dot_is_ambiguous(
    smtp_server: SmtpServer, make_settings: Callable[..., Settings]
) -> None:
    smtp = pool(smtp_server, make_settings, smtp_pool_size=1)
    smtp_server.drop_next("DATA")
    with pytest.raises(AmbiguousDeliveryError):
        await smtp.send_raw(SENDER, "a@example.org", wire(make_settings(), "a@example.org"))
    await smtp.send_raw(SENDER, "b@example.org", wire(make_settings(), "b@example.org"))
    await smtp.close()
    assert len(smtp_server.messages_to("a@example.org")) == 1  # it did arrive: never resend


async def test_stalls_time_out(
    smtp_server: SmtpServer, make_settings: Callable[..., Settings]
) -> None:
    smtp = pool(smtp_server, make_settings, smtp_pool_size=1, smtp_timeout=0.5)
    settings = make_settings()
    smtp_server.stall_next("MAIL", 1.5, times=2)
    with pytest.raises(TemporaryDeliveryError):
        await smtp.send_raw(SENDER, "a@example.org", wire(settings, "a@example.org"))
    smtp_server.stall_next("DATA", 1.5)
    with pytest.raises(AmbiguousDeliveryError):
        await smtp.send_raw(SENDER, "b@example.org", wire(settings, "b@example.org"))
    await smtp.close()


async def test_unreachable_server_is_temporary(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(smtp_url="smtp://127.0.0.1:1?tls=none", smtp_timeout=0.5)
    transport = make_transport(settings)
    with pytest.raises(TemporaryDeliveryError, match="cannot connect"):
        await transport.send_raw(SENDER, "a@example.org", wire(settings, "a@example.org"))
    await transport.close()


async def test_mailbox_writes_one_eml_per_message(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(mailbox_dir=tmp_path / "box")
    transport = make_transport(settings)
    assert isinstance(transport, Mailbox)
    for n in range(3):
        await transport.send_raw(SENDER, f"r{n}@example.org", wire(settings, f"r{n}@example.org"))
    files = sorted((tmp_path / "box").iterdir())
    assert len(files) == 3 and all(f.suffix == ".eml" for f in files)
    assert b"To: r0@example.org" in files[0].read_bytes()


async def test_send_email_renders_sends_and_returns_message_id(
    smtp_server: SmtpServer, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(smtp_url=smtp_server.url, smtp_timeout=2)
    transport = make_transport(settings)
    smtp_server.fail_next("RCPT", "451 4.3.0 try again")
    context = confirm_context(settings, email="new@example.org",
                              confirm_url="https://x.test/confirm/abc", topics=["llm"])
    message_id = await send_email(settings, transport, name="confirm", to="new@example.org",
                                  context=context, now=NOW, retry_delays=(0.01,))
    await transport.close()
    [message] = smtp_server.messages_to("new@example.org")
    assert message["Message-ID"] == message_id
    assert "https://x.test/confirm/abc" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_relay_closing_after_n_messages_is_transparent(
    smtp_server: SmtpServer, make_settings: Callable[..., Settings]
) -> None:
    smtp_server.close_after(3)
    smtp = pool(smtp_server, make_settings, smtp_pool_size=2)
    settings = make_settings()
    for n in range(10):
        await smtp.send_raw(SENDER, f"r{n}@example.org", wire(settings, f"r{n}@example.org"))
    await smtp.close()
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted(
        f"r{n}@example.org" for n in range(10)
    )
    assert smtp_server.connections >= 4
