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
from newsletter.render.items import DigestEntry, excerpt, safe_url, shorten_authors
from newsletter.render.personal import personalize, placeholders

EVIL = '<script>alert("x")</script> & Co'


def entry(title: str = "A paper", **overrides: Any) -> DigestEntry:
    values: dict[str, Any] = {
        "title": title,
        "url": "https://arxiv.org/abs/2401.00001",
        "authors": "Ada Lovelace, Alan Turing, Grace Hopper et al.",
        "excerpt": "We study things.",
        "upvotes": 42,
        "github_url": "https://github.com/example/repo",
        "why": 'Matches your topic "llm": transformers',
    }
    values.update(overrides)
    return DigestEntry(**values)


def contexts(settings: Settings) -> dict[str, dict[str, Any]]:
    links = {"preferences_url": "https://x.test/p/1", "unsubscribe_url": "https://x.test/u/1"}
    person = {"topics": ["llm", "speech"], "frequency": "daily", "send_hour": 7, "timezone": "UTC"}
    return {
        "digest": digest_context(settings, email="a@example.org", items=[entry()],
                                 issue_date=date(2024, 5, 1), frequency="daily", **links),
        "confirm": confirm_context(settings, email="a@example.org",
                                   confirm_url="https://x.test/c/1", topics=["llm"]),
        "manage": manage_context(settings, email="a@example.org", **links),
        "welcome": welcome_context(settings, email="a@example.org", **links, **person),
        "preferences_changed": preferences_changed_context(
            settings, email="a@example.org", **links, **person
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


def test_digest_escapes_feed_data_and_keeps_subject_one_line(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    items = [entry(EVIL + "\r\nBcc: victim@example.org", why=EVIL)]
    context = digest_context(settings, email="a@example.org", items=items,
                             issue_date=date(2024, 5, 1), frequency="daily",
                             preferences_url="https://x.test/p", unsubscribe_url="https://x.test/u")
    rendered = render_email("digest", context)
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    assert "<script>" in rendered.text  # the text part shows it literally, harmlessly
    assert 'href="https://arxiv.org/abs/2401.00001"' in rendered.html
    assert "Why you got this" in rendered.html


def test_trending_only_digest_says_so(make_settings: Callable[..., Settings]) -> None:
    context = digest_context(make_settings(), email="a@example.org", items=[entry()],
                             issue_date=date(2024, 5, 1), frequency="weekly",
                             preferences_url="https://x/p", unsubscribe_url="https://x/u",
                             trending_only=True)
    rendered = render_email("digest", context)
    assert "trending" in rendered.subject.lower()
    assert "Nothing new matched" in rendered.text


def test_placeholders_survive_rendering_and_are_filled(
    make_settings: Callable[..., Settings],
) -> None:
    holes = placeholders()
    context = digest_context(make_settings(), email=holes["recipient"], items=[entry()],
                             issue_date=date(2024, 5, 1), frequency="daily",
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


def test_item_helpers() -> None:
    assert shorten_authors(["A", "B", "C", "D"]) == "A, B, C et al."
    assert shorten_authors(["A", " B  "]) == "A, B"
    text = "word " * 100
    cut = excerpt(text, 300)
    assert len(cut) <= 301 and cut.endswith("word…")
    assert excerpt("short  text\n") == "short text"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://ok.example/x") == "https://ok.example/x"
    assert safe_url("https://ok.example/a b") is None
