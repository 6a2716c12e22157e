"""``newsletter inbound`` and what ``newsletter status`` shows of mail that came back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from typer.testing import CliRunner

from newsletter.cli.app import app
from newsletter.config import Settings
from newsletter.inbound.processor import Processor
from newsletter.inbound.verp import bounce_address
from newsletter.store.database import Database
from tests.inbound.conftest import SENDER
from tests.inbound.helpers import sent_deliveries, unsubscribe_token
from tests.inbound.samples import sample

runner = CliRunner()


def _cells(output: str, first: str) -> list[str]:
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{output}")


def test_status_shows_bounces_complaints_and_unsubscribes_by_mail(
    db: Database, db_url: str, cli_env: Callable[..., None],
    make_settings: Callable[..., Settings],
) -> None:
    config = make_settings(sender_address=SENDER, secret_key="t" * 40)
    processor = Processor(db, config)
    _, (first,) = sent_deliveries(db, "gone@example.org")
    complained, (second,) = sent_deliveries(db, "angry@example.com")
    leaving, _ = sent_deliveries(db, "leaving@example.org")
    verp = bounce_address(config, first)
    processor.handle(sample("postfix_unknown_user.eml", bounce_address=verp), [verp],
                     source="lmtp")
    processor.handle(sample("arf_our_digest.eml", bounce_address=bounce_address(config, second),
                            token=unsubscribe_token(db, config, complained)), [SENDER],
                     source="imap")
    request = (f"To: {SENDER}\r\nSubject: unsubscribe "
               f"{unsubscribe_token(db, config, leaving)}\r\n\r\n").encode()
    processor.handle(request, [SENDER], source="lmtp")
    processor.handle(b"Subject: hello\r\n\r\nthanks for the digest!\r\n", [SENDER], source="lmtp")

    cli_env(database_url=db_url, secret_key="t" * 40, sender_address=SENDER)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    edition = _cells(result.output, "1")
    assert edition[-2:] == ["1", "1"]  # bounced, complaints (by mail)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    for kind in ("hard bounce", "complaint", "unsubscribe", "ignored"):
        cells = _cells(result.output, kind)
        assert cells[1:3] == ["1", "1"] and cells[3].startswith(today), cells
    assert _cells(result.output, "soft bounce")[1:] == ["0", "0", "-"]


def test_poll_without_a_mailbox_says_which_setting(
    db_url: str, cli_env: Callable[..., None],
) -> None:
    cli_env(database_url=db_url)
    result = runner.invoke(app, ["inbound", "poll"])
    assert result.exit_code == 1
    assert "NEWSLETTER_INBOUND_IMAP_URL is not set" in result.output
