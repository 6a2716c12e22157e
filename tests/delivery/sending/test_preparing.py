"""Which composing child gets which claims: each digest rendered by one child, loads even."""

from __future__ import annotations

from collections import Counter
from datetime import date

from newsletter.delivery.ledger.claims import Claimed
from newsletter.delivery.messages.compose import ContentKey, content_key
from newsletter.delivery.sending.preparing import route
from newsletter.store.models import Frequency
from tests.delivery.helpers import NOW


def claim(n: int, papers: tuple[int, ...]) -> Claimed:
    return Claimed(id=n, subscriber_id=n, email=f"r{n}@example.org", paper_ids=papers,
                   reasons={"why": [f"about {papers[0]}"]}, attempts=0, created_at=NOW,
                   frequency=Frequency.DAILY, issue_date=date(2024, 5, 1), token_nonce="n")


def test_each_digest_goes_to_one_child_and_loads_stay_even() -> None:
    """A popular digest (300 readers) and 200 digests of one reader each, over two children:
    every claim once, no child over its half, the small digests whole in one child, and only
    the big one (cheap to render twice for so many) split."""
    claims = [claim(n, (1, 2)) if n % 5 < 3 else claim(n, (1000 + n,)) for n in range(500)]
    homes: dict[ContentKey, int] = {}

    def home(key: ContentKey) -> int:
        return homes.setdefault(key, len(homes) % 2)

    routed = route(claims, 2, home)
    assert sorted(c.id for part in routed for c in part) == list(range(500))
    assert [len(part) for part in routed] == [250, 250]
    children_of: dict[ContentKey, set[int]] = {}
    for n, part in enumerate(routed):
        for c in part:
            children_of.setdefault(content_key(c), set()).add(n)
    split = [key for key, children in children_of.items() if len(children) > 1]
    assert split == [content_key(claims[0])]
    # small digests go to their home child
    small = [c for c in claims if len(c.paper_ids) == 1]
    assert all(c in routed[homes[content_key(c)]] for c in small)


def test_uneven_batches_still_fill_every_claim() -> None:
    claims = [claim(n, (n % 3,)) for n in range(7)]
    routed = route(claims, 3, lambda key: 0)  # every digest at home in child 0
    assert Counter(c.id for part in routed for c in part) == Counter(range(7))
    assert max(len(part) for part in routed) <= 3
