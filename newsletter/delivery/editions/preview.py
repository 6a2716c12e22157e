"""A subscriber's next digest, as the sender would build it, without queuing anything.

Used by ``newsletter preview`` and the web app's preview page: the same candidates,
exclusions, matching and templates as :func:`newsletter.delivery.editions.build.build_edition`, with
the subscriber's real links in place of the per-recipient tokens.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.delivery.editions.choosing import Chooser, already_given, candidate_papers
from newsletter.delivery.editions.readers import Reader
from newsletter.render import RenderedEmail
from newsletter.render.digest import render_digest
from newsletter.store.models import Subscriber
from newsletter.store.verdicts import judged_papers
from newsletter.tokens import (
    FeedbackLinks,
    Purpose,
    feedback_check,
    link,
)


def preview_digest(
    session: Session, settings: Settings, subscriber: Subscriber, *, now: datetime
) -> RenderedEmail | None:
    """None when nothing is relevant (and the subscriber does not want an email anyway)."""
    now = now.astimezone(UTC)
    issue_date = now.astimezone(ZoneInfo(subscriber.timezone)).date()
    papers = candidate_papers(session, subscriber.frequency, issue_date, now)
    given = already_given(session, [subscriber.id], subscriber.frequency, issue_date)
    excluded = given.get(subscriber.id, set())
    chooser = Chooser(papers, now=now, semantic=settings.semantic_matching)
    judged = judged_papers(session, [subscriber.id], now=now).get(subscriber.id, [])
    choice = chooser.choose(Reader.of(subscriber, judged), excluded)
    if choice.mode == "nothing":
        return None
    links, check = FeedbackLinks(settings), feedback_check(subscriber.token_nonce)

    def feedback(paper_id: int) -> tuple[str, str]:
        signed = links.token(subscriber.id, paper_id, check)
        return links.urls(signed)

    return render_digest(
        settings,
        papers={paper.id: paper for paper in papers},
        paper_ids=choice.paper_ids,
        whys=choice.whys,
        issue_date=issue_date,
        frequency=subscriber.frequency.value,
        trending_only=choice.mode == "trending",
        email=subscriber.email,
        preferences_url=link(settings, Purpose.PREFERENCES, subscriber),
        unsubscribe_url=link(settings, Purpose.UNSUBSCRIBE, subscriber),
        feedback=feedback,
        followed=choice.followed,
    )
