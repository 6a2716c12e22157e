"""Which papers each subscriber gets in an edition: candidates, exclusions, matching, fallback.

Candidates are the papers announced (or featured on Hugging Face) within the last 2 days for a
daily edition (one day plus slack for late ingests and time zones) and 7 days for a weekly one;
the rule is ``store.papers.news_in_window``. A paper already given to the subscriber
in an earlier edition (sent, queued or ambiguous) is never chosen again; looking back 14 / 35
days is enough because older papers have left the candidate window by then.

Subscribers are matched through one :class:`Matcher`, which caches per distinct topic and
topic set, so the cost follows the variety of interests rather than the number of people.
A build hands the chooser one chunk of readers at a time: :meth:`Chooser.prepare` scores the
chunk's distinct topics in one call, then each reader's choice is a cache look-up as long as
someone with the same topics, size and exclusions was served before.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from newsletter.delivery.editions.readers import Reader
from newsletter.preferences import TopicSpec
from newsletter.store.idsets import among
from newsletter.store.models import (
    Delivery,
    DeliveryStatus,
    Edition,
    Frequency,
    Paper,
)
from newsletter.store.papers import news_in_window

WINDOW_DAYS = {Frequency.DAILY: 2, Frequency.WEEKLY: 7}
LOOKBACK_DAYS = {Frequency.DAILY: 14, Frequency.WEEKLY: 35}
TRENDING_SIZE = 3
HELD = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT,
        DeliveryStatus.AMBIGUOUS)
# Distinct choices remembered before the memo starts afresh: the recurring ones (curated topic
# sets) are back after a few readers, a free-text reader's own choice is not needed again.
CHOICES_KEPT = 20_000

ChoiceKey = tuple[int, int, bool, frozenset[int]]
NONE: frozenset[int] = frozenset()


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

    @cached_property
    def encoded(self) -> tuple[str, str]:
        """``paper_ids`` and ``reasons`` as JSON text, made once for everyone sharing the choice."""
        return json.dumps(self.paper_ids), json.dumps(self.reasons, ensure_ascii=False)


def candidate_papers(
    session: Session, frequency: Frequency, issue_date: date, now: datetime
) -> list[Paper]:
    days = WINDOW_DAYS[frequency]
    first_day = issue_date - timedelta(days=days - 1)
    query = select(Paper).where(news_in_window(first_day, issue_date, now - timedelta(days=days)))
    return list(session.scalars(query.order_by(Paper.id)))


def already_given(
    session: Session, subscriber_ids: Sequence[int], frequency: Frequency, issue_date: date
) -> dict[int, set[int]]:
    """subscriber id -> paper ids held by their other recent deliveries.

    One query for a whole chunk of subscribers: the few editions in the look-back window are
    found first, then their rows for the chunk are read along the (edition, subscriber) index,
    as a range of subscriber ids when the chunk is dense (a build's keyset chunk) and as a list
    otherwise. With no earlier edition in the window, no delivery is read at all.
    """
    if not subscriber_ids:
        return {}
    since = issue_date - timedelta(days=LOOKBACK_DAYS[frequency])
    editions = list(
        session.scalars(
            select(Edition.id).where(
                Edition.issue_date >= since,
                ~((Edition.frequency == frequency) & (Edition.issue_date == issue_date)),
            )
        )
    )
    if not editions:
        return {}
    query = select(Delivery.subscriber_id, cast(Delivery.paper_ids, Text)).where(
        Delivery.edition_id.in_(editions), Delivery.status.in_(HELD)
    )
    wanted = set(subscriber_ids)
    query = query.where(among(Delivery.subscriber_id, sorted(wanted)))
    given: dict[int, set[int]] = {}
    for subscriber_id, paper_ids in session.execute(query):
        if subscriber_id in wanted and paper_ids:
            given.setdefault(subscriber_id, set()).update(json.loads(paper_ids))
    return given


class Chooser:
    """One edition's matching: built once, asked once per subscriber, chunk by chunk.

    Matching (scikit-learn) is imported here, not at module level: it takes seconds to load,
    and every ``newsletter`` command would pay for it through the scheduler's imports.
    """

    def __init__(
        self, papers: Sequence[Paper], *, now: datetime, semantic: str = "off",
        kept: int = CHOICES_KEPT,
    ) -> None:
        from newsletter.matching import Matcher
        from newsletter.matching.trending import trending

        self.matcher = Matcher(papers, now=now, semantic=semantic) if papers else None
        self._candidates = frozenset(p.id for p in papers)
        self._hot = sorted(papers, key=lambda p: (-trending(p, now), p.id))
        self._by_id = {paper.id: paper for paper in papers}
        self._kept = kept
        self._choices: dict[ChoiceKey, tuple[tuple[TopicSpec, ...], Choice]] = {}

    def prepare(self, readers: Sequence[Reader]) -> None:
        """Score the distinct topics of a chunk of readers in one batch."""
        if self.matcher is None:
            return
        lists = {id(reader.topics): reader.topics for reader in readers}
        distinct = {(t, t.description): t for topics in lists.values() for t in topics}
        self.matcher.prepare(list(distinct.values()))

    def choose(self, reader: Reader, excluded: Collection[int]) -> Choice:
        """Same interest, same exclusions, same choice: asked once per distinct request.

        A request is recognised by the identity of the reader's topic tuple (readers with the
        same topics share one, see :class:`~newsletter.delivery.editions.readers.TopicBook`):
        hashing topics again for each of a million readers would cost more than the rest of
        the choice. The entry keeps its tuple alive, so an id found in the memo is that tuple.
        Only exclusions among this edition's candidates can change a choice, so only they are
        part of the key: readers who were sent the same earlier papers still share one.
        """
        held = self._candidates.intersection(excluded) if excluded else NONE
        if reader.dismissed:  # "Not for me": never given again, whatever matching makes of it
            held = held | self._candidates.intersection(reader.dismissed)
        key = (id(reader.topics), reader.digest_size, reader.always_send, held)
        found = self._choices.get(key)
        if found is not None:
            return found[1]
        if len(self._choices) >= self._kept:
            self._choices.clear()  # bounded; the recurring choices come back at once
        choice = self._choose(reader.topics, reader.digest_size, reader.always_send, key[3])
        self._choices[key] = (reader.topics, choice)
        return choice

    def forget_choices(self) -> None:
        """Drop the memo of choices. For a worker process: its readers' topic tuples arrive
        anew with each chunk (unpickled), so a choice is never found again after its chunk."""
        self._choices.clear()

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
