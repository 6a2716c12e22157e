"""Which papers each subscriber gets in an edition: candidates, exclusions, matching, fallback.

Candidates are the papers new since the previous edition's window: first seen, or featured
on Hugging Face, within the last 2 days for a daily edition (one day plus slack for late
ingests and time zones) and 7 days for a weekly one. A paper already given to the subscriber
in an earlier edition (sent, queued or ambiguous) is never chosen again; looking back 14 / 35
days is enough because older papers have left the candidate window by then.

Subscribers are matched through one :class:`Matcher`, which caches per distinct topic and
topic set, so the cost follows the variety of interests rather than the number of people.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from newsletter.delivery.editions.readers import Reader
from newsletter.preferences import TopicSpec
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    Frequency,
    Paper,
)

WINDOW_DAYS = {Frequency.DAILY: 2, Frequency.WEEKLY: 7}
LOOKBACK_DAYS = {Frequency.DAILY: 14, Frequency.WEEKLY: 35}
TRENDING_SIZE = 3
HELD = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT,
        DeliveryStatus.AMBIGUOUS)
CHUNK = 2000


@dataclass(frozen=True)
class Choice:
    """``mode``: "match", "trending" (nothing matched, always_send) or "nothing".

    ``topics``: the label each paper was picked for, so a "More like this" on it is filed under
    that topic (empty for trending picks).
    """

    paper_ids: list[int]
    whys: list[str]
    mode: str
    topics: list[str] = field(default_factory=list)
    # Followed authors among the chosen papers' authors: the digest marks them.
    followed: tuple[str, ...] = ()

    @property
    def reasons(self) -> dict[str, object]:
        found: dict[str, object] = {"mode": self.mode, "why": self.whys, "topics": self.topics}
        if self.followed:
            found["followed"] = list(self.followed)
        return found


def candidate_papers(
    session: Session, frequency: Frequency, issue_date: date, now: datetime
) -> list[Paper]:
    days = WINDOW_DAYS[frequency]
    query = select(Paper).where(
        or_(
            Paper.first_seen_at >= now - timedelta(days=days),
            Paper.featured_on.between(issue_date - timedelta(days=days - 1), issue_date),
        )
    )
    return list(session.scalars(query.order_by(Paper.id)))


def already_given(
    session: Session, subscriber_ids: Sequence[int], frequency: Frequency, issue_date: date
) -> dict[int, set[int]]:
    """subscriber id -> paper ids held by their other recent deliveries."""
    since = issue_date - timedelta(days=LOOKBACK_DAYS[frequency])
    given: dict[int, set[int]] = {}
    for start in range(0, len(subscriber_ids), CHUNK):
        rows = session.execute(
            select(Delivery.subscriber_id, Delivery.paper_ids)
            .join(Edition, Edition.id == Delivery.edition_id)
            .where(
                Delivery.subscriber_id.in_(subscriber_ids[start : start + CHUNK]),
                Delivery.status.in_(HELD),
                Edition.issue_date >= since,
                ~((Edition.frequency == frequency) & (Edition.issue_date == issue_date)),
            )
        )
        for subscriber_id, paper_ids in rows:
            given.setdefault(subscriber_id, set()).update(paper_ids or [])
    return given


class Chooser:
    """One edition's matching: built once, asked once per subscriber.

    Matching (scikit-learn) is imported here, not at module level: it takes seconds to load,
    and every ``newsletter`` command would pay for it through the scheduler's imports.
    """

    def __init__(
        self, papers: Sequence[Paper], *, now: datetime, semantic: str = "off"
    ) -> None:
        from newsletter.matching import Matcher
        from newsletter.matching.trending import trending

        self.matcher = Matcher(papers, now=now, semantic=semantic) if papers else None
        self._hot = sorted(papers, key=lambda p: (-trending(p, now), p.id))
        self._by_id = {paper.id: paper for paper in papers}
        self._choices: dict[tuple[tuple[TopicSpec, ...], int, bool, frozenset[int]], Choice] = {}

    def choose(self, reader: Reader, excluded: Collection[int]) -> Choice:
        """Same interest, same exclusions, same choice: asked once per distinct request."""
        key = (reader.topics, reader.digest_size, reader.always_send,
               frozenset(excluded) | reader.dismissed)
        found = self._choices.get(key)
        if found is None:
            found = self._choices[key] = self._choose(*key)
        return found

    def _choose(
        self, topics: tuple[TopicSpec, ...], size: int, always_send: bool,
        excluded: frozenset[int],
    ) -> Choice:
        from newsletter.matching import Interest

        interest = Interest(topics=topics, size=size, exclude_ids=frozenset(excluded),
                            always_send=always_send)
        items = self.matcher.select(interest) if topics and self.matcher else []
        if items:
            ids = [int(i.paper_id) for i in items]
            return Choice(ids, [i.why for i in items], "match", [i.topic for i in items],
                          self._followed(topics, ids))
        if not always_send:
            return Choice([], [], "nothing")
        hot = [p for p in self._hot if p.id not in excluded][: min(TRENDING_SIZE, size)]
        whys = [f"Trending now ({p.upvotes} upvotes)" if p.upvotes else "Trending now" for p in hot]
        return Choice([p.id for p in hot], whys, "trending" if hot else "nothing",
                      followed=self._followed(topics, [p.id for p in hot]))

    def _followed(self, topics: tuple[TopicSpec, ...], ids: list[int]) -> tuple[str, ...]:
        """Only the followed names that are among these papers' authors, so readers whose
        lists differ elsewhere still share one rendered digest."""
        from newsletter.matching.authors import followed_author

        names = sorted({name for topic in topics for name in topic.authors})
        if not names:
            return ()
        authors = [self._by_id[i].authors or [] for i in ids if i in self._by_id]
        return tuple(n for n in names if any(followed_author(a, [n]) for a in authors))
