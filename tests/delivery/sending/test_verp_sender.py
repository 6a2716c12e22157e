"""Digests leave with a VERP envelope sender that names their delivery (see newsletter.inbound)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.inbound.verp import bounce_address
from newsletter.store.database import Database
from newsletter.store.models import Delivery, DeliveryStatus, Frequency
from tests.delivery.conftest import RunSender
from tests.delivery.helpers import NOW, add_papers, add_subscriber
from tests.smtp_server import SmtpServer


async def test_each_digest_goes_out_with_its_delivery_verp_sender(
    db: Database, smtp_server: SmtpServer, make_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = make_settings(smtp_url=smtp_server.url, sender_address="digest@newsletter.test",
                             base_url="https://papers.example.org")
    add_papers(db)
    add_subscriber(db, "a@example.org")
    add_subscriber(db, "b@example.org")
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=NOW.date(), now=NOW)
    await run_sender(settings)
    with db.session() as session:
        sent = select(Delivery.id).where(Delivery.status == DeliveryStatus.SENT)
        ids = list(session.scalars(sent))
    assert len(smtp_server.received) == 2 == len(ids)
    senders = {r.mail_from for r in smtp_server.received}
    assert senders == {bounce_address(settings, d) for d in ids}
    assert all(m.message["From"].addresses[0].addr_spec == "digest@newsletter.test"
               for m in smtp_server.received)
