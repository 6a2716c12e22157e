"""From a claimed delivery to the bytes of its message, rendering each distinct digest once.

Subscribers with the same topics usually get the same papers with the same why-lines, so the
expensive part (Jinja, CSS inlining, quoted-printable encoding) is keyed on that content and
done once; each message then only fills in the recipient's address and signed links
(:class:`newsletter.delivery.messages.message.MessageTemplate`). Each paper's "More like this"
and "Not for me" links are such holes too: one per paper id, holding the recipient's token for it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime

from newsletter.config import Settings
from newsletter.delivery.ledger.claims import Claimed
from newsletter.delivery.messages.headers import delivery_message_id
from newsletter.delivery.messages.message import MessageTemplate, validate_address
from newsletter.inbound.verp import bounce_address
from newsletter.render.digest import render_digest
from newsletter.render.items import DigestEntry
from newsletter.render.personal import feedback_field, placeholders
from newsletter.render.personal import token as hole_for
from newsletter.store.models import Paper
from newsletter.tokens import (
    FeedbackLinks,
    Purpose,
    feedback_check,
    subscriber_check,
    token_url,
    token_writer,
)

CACHE_SIZE = 512
LINKS = (Purpose.PREFERENCES, Purpose.UNSUBSCRIBE)  # the two signed links of every digest
ContentKey = tuple[str, str, tuple[int, ...], str, tuple[str, ...], tuple[str, ...]]


def mailto(settings: Settings, token: str) -> str:
    """``tokens.unsubscribe_mailto`` for an already-made unsubscribe token: signing costs more
    than anything else per message, so the link's token is reused (a test keeps them equal)."""
    return f"mailto:{settings.sender_address}?subject=unsubscribe%20{token}"


def content_key(claim: Claimed) -> ContentKey:
    """What a rendered digest depends on: claims with equal keys share one rendering."""
    return (
        claim.frequency.value, claim.issue_date.isoformat(), claim.paper_ids,
        str(claim.reasons.get("mode", "")), tuple(claim.reasons.get("why", ())),
        tuple(claim.reasons.get("followed", ())),
    )


class NothingToSend(Exception):
    """Every paper of this delivery has been deleted since the edition was built."""


class Composer:
    def __init__(self, settings: Settings, *, cache_size: int = CACHE_SIZE) -> None:
        self.settings = settings
        self.feedback = FeedbackLinks(settings)
        self.tokens = token_writer(settings.signing_key())
        self.papers: dict[int, Paper] = {}
        self.renders = 0
        self._cache_size = cache_size
        self._templates: OrderedDict[ContentKey, MessageTemplate] = OrderedDict()
        self._entries: dict[tuple[int, str, tuple[str, ...]], DigestEntry] = {}
        self._date = (0, "")

    def missing_papers(self, claims: Iterable[Claimed]) -> set[int]:
        return {pid for claim in claims for pid in claim.paper_ids if pid not in self.papers}

    def add_papers(self, papers: Iterable[Paper]) -> None:
        self.papers.update((paper.id, paper) for paper in papers)

    def template(self, claim: Claimed) -> MessageTemplate:
        key = content_key(claim)
        found = self._templates.get(key)
        if found is not None:
            self._templates.move_to_end(key)
            return found
        holes = placeholders()
        for paper_id in claim.paper_ids:
            holes[feedback_field(paper_id)] = hole_for(feedback_field(paper_id))
        rendered = render_digest(
            self.settings, papers=self.papers, paper_ids=claim.paper_ids,
            whys=list(claim.reasons.get("why", [])), issue_date=claim.issue_date,
            frequency=claim.frequency.value, trending_only=claim.reasons.get("mode") == "trending",
            email=holes["recipient"], preferences_url=holes["preferences_url"],
            unsubscribe_url=holes["unsubscribe_url"], cache=self._entries,
            feedback=self._feedback_holes, followed=key[5],
        )
        if rendered is None:
            raise NothingToSend("not sent: its papers no longer exist")
        template = MessageTemplate(self.settings, rendered, holes)
        self.renders += 1
        self._templates[key] = template
        if len(self._templates) > self._cache_size:
            self._templates.popitem(last=False)
        return template

    def _feedback_holes(self, paper_id: int) -> tuple[str, str]:
        hole = hole_for(feedback_field(paper_id))
        return self.feedback.urls(hole)

    def compose(
        self, claim: Claimed, now: datetime, body_lines: list[bytes] | None = None
    ) -> tuple[str, str, str, bytes]:
        """(envelope sender, recipient, Message-ID, bytes); InvalidInput for an address we cannot
        send to. The envelope sender names the delivery (VERP), so its bounce finds it.
        ``body_lines``: see :meth:`MessageTemplate.fill` (for signing)."""
        recipient = validate_address(claim.email)
        check = subscriber_check(Purpose.UNSUBSCRIBE, claim.subscriber_id, claim.email, "")
        preferences, token = self.tokens.tokens(LINKS, claim.subscriber_id, check, time.time())
        unsubscribe = token_url(self.settings, Purpose.UNSUBSCRIBE, token)
        values = {
            "recipient": claim.email,
            "preferences_url": token_url(self.settings, Purpose.PREFERENCES, preferences),
            "unsubscribe_url": unsubscribe,
        }
        check = feedback_check(claim.token_nonce)
        for paper_id in claim.paper_ids:
            values[feedback_field(paper_id)] = self.feedback.token(
                claim.subscriber_id, paper_id, check
            )
        message_id = delivery_message_id(self.settings, claim.id, claim.created_at)
        data = self.template(claim).fill(
            to=recipient, now=now, message_id=message_id, values=values,
            unsubscribe_url=unsubscribe,
            unsubscribe_mailto=mailto(self.settings, token), body_lines=body_lines,
        )
        return bounce_address(self.settings, claim.id), recipient, message_id, data
