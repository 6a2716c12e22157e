"""Every email renders with its context function; feed data is escaped; subjects are one line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from newsletter.config import Settings
from newsletter.render import EMAILS, render_email
from newsletter.render.contexts import (
    confirm_context,
    digest_context,
    manage_context,
    preferences_changed_context,
    unsubscribed_context,
    welcome_context,
)
from newsletter.render.environment import short_day
from newsletter.render.items import Author, DigestEntry
from newsletter.render.personal import personalize, placeholders

EVIL = '<script>alert("x")</script> & Co'
WHY = 'Speech recognition — title says "speech recognition"'


def entry(title: str = "A paper", **overrides: Any) -> DigestEntry:
    values: dict[str, Any] = {
        "title": title,
        "url": "https://huggingface.co/papers/2401.00001",
        "summary": "We propose a thing that works.",
        "why": WHY,
        "authors": (Author("Ada Lovelace"), Author("Alan Turing", followed=True),
                    Author("Grace Hopper")),
        "et_al": True,
        "day": date(2024, 4, 30),
        "upvotes": 42,
        "comments": 3,
        "pdf_url": "https://arxiv.org/pdf/2401.00001",
        "code_url": "https://github.com/example/repo",
    }
    values.update(overrides)
    return DigestEntry(**values)


LINKS = {"preferences_url": "https://x.test/p/1", "unsubscribe_url": "https://x.test/u/1"}


def digest(settings: Settings, items: list[DigestEntry], **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"email": "a@example.org", "items": items,
                              "issue_date": date(2024, 5, 1), "frequency": "daily", **LINKS}
    values.update(overrides)
    return digest_context(settings, **values)


def contexts(settings: Settings) -> dict[str, dict[str, Any]]:
    person = {"topics": ["llm", "speech"], "frequency": "daily", "send_hour": 7, "timezone": "UTC"}
    return {
        "digest": digest(settings, [entry()]),
        "confirm": confirm_context(settings, email="a@example.org",
                                   confirm_url="https://x.test/c/1", topics=["llm"]),
        "manage": manage_context(settings, email="a@example.org", **LINKS),
        "welcome": welcome_context(settings, email="a@example.org", **LINKS, **person),
        "preferences_changed": preferences_changed_context(
            settings, email="a@example.org", **LINKS, **person
        ),
        "unsubscribed": unsubscribed_context(settings, email="a@example.org",
                                             subscribe_url="https://x.test/"),
    }


@pytest.mark.parametrize("name", EMAILS)
def test_every_email_renders_with_footer(name: str, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(postal_address="Example Papers, 1 Main St, Springfield")
    rendered = render_email(name, contexts(settings)[name])
    assert rendered.subject and "\n" not in rendered.subject
    for body in (rendered.text, rendered.html):
        assert "Example Papers, 1 Main St, Springfield" in body
    assert 'style="' in rendered.html  # CSS was inlined
    assert "prefers-color-scheme: dark" in rendered.html  # ...but the media queries were kept
    assert 'name="color-scheme"' in rendered.html
    if name != "unsubscribed" and name != "confirm":
        assert 'href="https://x.test/p/1"' in rendered.html


def test_digest_item_shows_the_paper_as_it_is(make_settings: Callable[..., Settings]) -> None:
    rendered = render_email("digest", digest(make_settings(), [entry("Speech at scale")]))
    html, text = rendered.html, rendered.text
    assert 'href="https://huggingface.co/papers/2401.00001"' in html
    assert 'href="https://arxiv.org/pdf/2401.00001"' in html
    assert 'href="https://github.com/example/repo"' in html
    assert "Ada Lovelace" in html and "et&nbsp;al." in html
    assert "★&nbsp;Alan Turing</strong>" in html  # the followed author, marked
    assert "Apr 30" in html and "▲&nbsp;42" in html and "3&nbsp;comments" in html
    assert "We propose a thing that works." in html
    assert WHY in html
    assert "Ada Lovelace, ★ Alan Turing, Grace Hopper et al. - Apr 30 - 42 upvotes" in text
    assert "Why: " + WHY in text
    assert "PDF: https://arxiv.org/pdf/2401.00001" in text
    assert "More like this" not in html + text and "Not for me" not in html + text


def test_feedback_links_follow_the_why_line_when_present(
    make_settings: Callable[..., Settings],
) -> None:
    item = entry(more_url="https://x.test/more/1", less_url="https://x.test/less/1")
    rendered = render_email("digest", digest(make_settings(), [item]))
    html = rendered.html
    assert html.index(">More like this</a>") > html.index("title says")
    assert 'href="https://x.test/more/1"' in html and 'href="https://x.test/less/1"' in html
    assert "More like this: https://x.test/more/1" in rendered.text
    assert "Not for me: https://x.test/less/1" in rendered.text


def test_an_item_with_little_known_still_renders(make_settings: Callable[..., Settings]) -> None:
    bare = DigestEntry(title="Bare", url="https://arxiv.org/search/?query=Bare&searchtype=title",
                       summary="", why="")
    rendered = render_email("digest", digest(make_settings(), [bare]))
    assert 'href="https://arxiv.org/search/?query=Bare&amp;searchtype=title"' in rendered.html
    assert 'class="why"' not in rendered.html and "Why:" not in rendered.text


def test_old_papers_show_their_year() -> None:
    assert short_day(date(2024, 6, 11), date(2024, 6, 12)) == "Jun 11"
    assert short_day(date(2024, 2, 19), date(2026, 11, 30)) == "Feb 19, 2024"


def test_digest_escapes_feed_data_and_keeps_subject_one_line(
    make_settings: Callable[..., Settings],
) -> None:
    items = [entry(EVIL + "\r\nBcc: victim@example.org", why=EVIL, summary=EVIL,
                   authors=(Author(EVIL),))]
    rendered = render_email("digest", digest(make_settings(), items))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    assert "<script>" in rendered.text  # the text part shows it literally, harmlessly


def test_trending_only_digest_says_so(make_settings: Callable[..., Settings]) -> None:
    weekly = digest(make_settings(), [entry()], frequency="weekly", trending_only=True)
    rendered = render_email("digest", weekly)
    assert rendered.subject == "Nothing matched your topics this week: what's trending"
    assert "Nothing new matched" in rendered.text


def test_placeholders_survive_rendering_and_are_filled(
    make_settings: Callable[..., Settings],
) -> None:
    holes = placeholders()
    context = digest(make_settings(), [entry()], email=holes["recipient"],
                     preferences_url=holes["preferences_url"],
                     unsubscribe_url=holes["unsubscribe_url"])
    shared = render_email("digest", context)
    for token in holes.values():
        assert token in shared.html and token in shared.text
    mine = personalize(shared, {"recipient": "me@example.org",
                                "preferences_url": "https://x/p?a=1&b=2",
                                "unsubscribe_url": "https://x/u"})
    assert "%%NL" not in mine.html + mine.text
    assert 'href="https://x/p?a=1&amp;b=2"' in mine.html
    assert "https://x/p?a=1&b=2" in mine.text


def test_unknown_email_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown email"):
        render_email("nope", {})


def test_subject_and_preview_line_cut_titles_at_words(
    make_settings: Callable[..., Settings],
) -> None:
    long_title = ("When Long-Sequence Models Require Efficient Attention: A Study of "
                  "Long-Sequence Models Requiring Memory")
    items = [entry(long_title), entry("Second paper about speech"), entry("Third paper")]
    rendered = render_email("digest", digest(make_settings(), items))
    assert rendered.subject == (
        "When Long-Sequence Models Require Efficient Attention… + 2 more papers")  # not "A…"
    preheader = rendered.html.split('class="preheader"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert preheader == ("3 papers for Wednesday, May 1, 2024. "
                         "Also: Second paper about speech; Third paper")
    alone = render_email("digest", digest(make_settings(), [entry(long_title)]))
    assert alone.subject == long_title[:89].rsplit(" ", 1)[0] + "…"


def test_text_part_has_no_empty_byline(make_settings: Callable[..., Settings]) -> None:
    """A paper with no authors or date (the bundled sample) gets no blank line or stray dash."""
    bare = DigestEntry(title="Bare", url="https://arxiv.org/search/?query=Bare&searchtype=title",
                       summary="We do a thing.", why="", upvotes=3)
    text = render_email("digest", digest(make_settings(), [bare])).text
    assert "1. Bare\n   3 upvotes\n\n   We do a thing.\n" in text
    full = render_email("digest", digest(make_settings(), [entry()])).text
    byline = full.split("1. A paper\n", 1)[1].split("\n", 1)[0]
    assert byline.startswith("   ") and " - " in byline and not byline.strip().startswith("-")
