"""A digest from ledger data (paper ids and why-lines) to a rendered email."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import replace
from datetime import date

from newsletter.config import Settings
from newsletter.render import RenderedEmail, render_email
from newsletter.render.contexts import digest_context
from newsletter.render.items import DigestEntry, digest_entry
from newsletter.store.models import Paper

EntryCache = MutableMapping[tuple[int, str, tuple[str, ...]], DigestEntry]
# paper id -> its ("More like this", "Not for me") URLs for this recipient (or their holes)
FeedbackUrls = Callable[[int], tuple[str, str]]


def digest_entries(
    papers: Mapping[int, Paper],
    paper_ids: Sequence[int],
    whys: Sequence[str],
    cache: EntryCache | None = None,
    feedback: FeedbackUrls | None = None,
    followed: Sequence[str] = (),
) -> list[DigestEntry]:
    """Entries for the papers that still exist; ``cache`` shares them between digests (links
    are added after it, so one cached entry serves every recipient).

    ``followed``: the authors the reader follows, marked in the author lists.
    """
    wanted = tuple(followed)
    entries = []
    for index, paper_id in enumerate(paper_ids):
        paper = papers.get(paper_id)
        if paper is None:
            continue
        why = whys[index] if index < len(whys) else ""
        key = (paper_id, why, wanted)
        entry = cache.get(key) if cache is not None else None
        if entry is None:
            entry = digest_entry(paper, why, wanted)
            if cache is not None:
                cache[key] = entry
        if feedback is not None:
            more, less = feedback(paper_id)
            entry = replace(entry, more_url=more, less_url=less)
        entries.append(entry)
    return entries


def render_digest(
    settings: Settings,
    *,
    papers: Mapping[int, Paper],
    paper_ids: Sequence[int],
    whys: Sequence[str],
    issue_date: date,
    frequency: str,
    trending_only: bool,
    email: str,
    preferences_url: str,
    unsubscribe_url: str,
    cache: EntryCache | None = None,
    feedback: FeedbackUrls | None = None,
    followed: Sequence[str] = (),
) -> RenderedEmail | None:
    """None when none of the papers exist any more (deleted since the edition was built)."""
    entries = digest_entries(papers, paper_ids, whys, cache, feedback, followed)
    if not entries:
        return None
    context = digest_context(
        settings,
        email=email,
        items=entries,
        issue_date=issue_date,
        frequency=frequency,
        preferences_url=preferences_url,
        unsubscribe_url=unsubscribe_url,
        trending_only=trending_only,
    )
    return render_email("digest", context)
