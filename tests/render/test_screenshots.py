"""The digest in a real browser, at phone and desktop widths, light and dark.

Screenshots go to tests/artifacts/ for people to look at; the assertions catch the layout
faults that matter in mail clients: horizontal scrolling on a phone, content wider than 600 px,
a why-line that wraps on a phone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Settings
from newsletter.matching.ranking import MAX_WHY, explain
from newsletter.matching.relevance import Judgement
from newsletter.render import render_email
from newsletter.render.contexts import digest_context
from newsletter.render.digest import digest_entries
from newsletter.render.personal import personalize, placeholders
from newsletter.store.models import Paper

SAMPLE = Path(__file__).resolve().parents[2] / "newsletter" / "sources" / "sample" / "papers.json"
ISSUE = date(2024, 6, 12)
# Why-lines written by matching's own code: the topic, then why (a title's word, the words that
# matched, a followed author, a liked paper), and the line an edition gives a trending paper.
WHYS = [
    explain("Speech recognition", Judgement(0.9, ("whisper",), in_title=("whisper",))),
    explain("Model compression", Judgement(0.9, ("quantization", "pruning"))),
    explain("LLM safety", Judgement(0.9, followed="Alan Turing")),
    explain("Code LLMs", Judgement(0.9, liked="Repairing real bugs with large language models")),
    explain("Web agents and tool use", Judgement(0.9, ("tool calls", "planning"))),  # MAX_WHY
    "Trending now (128 upvotes)",
]


def papers() -> dict[int, Paper]:
    """Six real sample papers dressed as each source lists them: Hugging Face (id, AI summary,
    upvotes, comments, code), arXiv (id, no votes) and the bundled sample (no id at all)."""
    items = json.loads(SAMPLE.read_text(encoding="utf-8"))[:6]
    now = datetime(2024, 6, 12, tzinfo=UTC)
    found = {}
    for n, item in enumerate(items):
        from_hf, has_id = n in (0, 2, 3), n != 5
        found[n] = Paper(
            id=n, source_id=f"s{n}", arxiv_id=f"2406.0652{n}" if has_id else None,
            title=item["title"], abstract=item["abstract"],
            authors=[*(f"Author Number{k}" for k in range(n)), "Alan Turing",
                     *(f"Coauthor Name{k}" for k in range(n))],
            ai_summary=("A one-sentence summary written by Hugging Face for this paper, "
                        "saying what it does.") if n == 0 else None,
            github_url="https://github.com/example/code" if n % 2 == 0 else None,
            upvotes=[128, 0, 17, 3, 0, 0][n], comments=[12, 0, 1, 0, 0, 0][n],
            featured_on=date(2024, 6, 11) if from_hf else None,
            published_at=datetime(2024, 6, 10, tzinfo=UTC) if has_id else None,
            sources=["hf"] if from_hf else ["arxiv"] if has_id else ["sample"],
            first_seen_at=now, updated_at=now,
        )
    return found


def digest_html(settings: Settings) -> str:
    """As a reader gets it: per-recipient links filled in, "More like this" / "Not for me" on
    every paper (the feedback links fill ``more_url`` and ``less_url`` per recipient)."""
    holes = placeholders()
    entries = [
        replace(entry, more_url=f"https://papers.example.org/more/{n}",
                less_url=f"https://papers.example.org/less/{n}")
        for n, entry in enumerate(
            digest_entries(papers(), list(range(6)), WHYS, followed=["Alan Turing"]))
    ]
    shared = render_email("digest", digest_context(
        settings, email=holes["recipient"], items=entries, issue_date=ISSUE, frequency="daily",
        preferences_url=holes["preferences_url"], unsubscribe_url=holes["unsubscribe_url"],
    ))
    mine = personalize(shared, {"recipient": "reader@example.org",
                                "preferences_url": "https://papers.example.org/preferences/t",
                                "unsubscribe_url": "https://papers.example.org/unsubscribe/t"})
    return mine.html


@pytest.mark.browser
@pytest.mark.parametrize(
    ("width", "scheme"),
    [(360, "light"), (375, "light"), (375, "dark"), (700, "light"), (700, "dark")],
)
def test_digest_screenshots(
    width: int, scheme: str, browser: Any, artifacts_dir: Path, tmp_path: Path,
    make_settings: Callable[..., Settings],
) -> None:
    page_file = tmp_path / "digest.html"
    page_file.write_text(digest_html(make_settings(
        postal_address="Trending Papers, 1 Example Street, Springfield")), encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    try:
        page.goto(page_file.as_uri())
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"horizontal scroll at {width}px"
        container = page.evaluate(
            "document.querySelector('table.container, table[width=\"600\"]')"
            ".getBoundingClientRect().width"
        )
        assert container <= 600
        lines = page.evaluate(
            "[...document.querySelectorAll('p.why')].map(p => Math.round("
            "p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight)))"
        )
        assert max(map(len, WHYS)) == MAX_WHY  # the longest line matching may write is shown
        assert lines == [1] * len(WHYS), f"why-lines wrap at {width}px: {lines}"
        titles = page.evaluate(
            "[...document.querySelectorAll('p.item-title a')].map(a => a.href)"
        )
        assert len(titles) == 6 and all(t.startswith("https://") for t in titles)
        suffix = "-dark" if scheme == "dark" else ""
        page.screenshot(path=str(artifacts_dir / f"digest-{width}{suffix}.png"), full_page=True)
    finally:
        page.close()
