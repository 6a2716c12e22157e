"""Every paper in a sent digest carries the recipient's own "More like this" / "Not for me"
links, while each distinct digest is still rendered once."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from sqlalchemy import select

from newsletter.config import Settings
from newsletter.delivery.editions.build import build_edition
from newsletter.store.database import Database
from newsletter.store.models import Delivery, Frequency, Subscriber
from newsletter.tokens import FeedbackLinks, feedback_check
from tests.delivery.conftest import RunSender
from tests.delivery.helpers import NOW, add_papers, add_subscriber
from tests.smtp_server import SmtpServer

LINK = re.compile(r"https://papers\.example\.org/(more-like-this|not-for-me)/([A-Za-z0-9._-]+)")


async def test_each_paper_has_links_signed_for_its_recipient(
    db: Database, smtp_server: SmtpServer, smtp_settings: Callable[..., Settings],
    run_sender: RunSender,
) -> None:
    settings = smtp_settings()
    add_papers(db)
    readers = {add_subscriber(db, f"r{n}@example.org"): f"r{n}@example.org" for n in range(3)}
    build_edition(db, settings, frequency=Frequency.DAILY, issue_date=date(2024, 5, 1), now=NOW)
    summary, sender = await run_sender(settings)
    assert summary.sent == 3
    assert sender.composer.renders == 1  # same papers: one render, links filled per message
    links = FeedbackLinks(settings)
    with db.session() as session:
        given = dict(session.execute(select(Delivery.subscriber_id, Delivery.paper_ids)).all())
        nonces = dict(session.execute(select(Subscriber.id, Subscriber.token_nonce)).all())
    seen: set[str] = set()
    for subscriber_id, address in readers.items():
        [message] = smtp_server.messages_to(address)
        for kind in ("plain", "html"):
            part = message.get_body((kind,))
            assert part is not None
            found = LINK.findall(str(part.get_content()))
            papers: dict[str, list[int]] = {"more-like-this": [], "not-for-me": []}
            for path, token in found:
                claims = links.read(token)
                assert claims.subscriber_id == subscriber_id
                assert claims.check == feedback_check(nonces[subscriber_id])
                papers[path].append(claims.paper_id)
                seen.add(token)
            assert papers["more-like-this"] == given[subscriber_id]
            assert papers["not-for-me"] == given[subscriber_id]
    assert len(seen) == sum(len(given[s]) for s in readers)  # one token per reader and paper
