"""The digest in a real browser, at phone and desktop widths, light and dark.

Screenshots go to tests/artifacts/ for people to look at; the assertions catch the layout
faults that matter in mail clients: horizontal scrolling on a phone, content wider than 600 px.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Settings
from newsletter.render.digest import render_digest
from newsletter.render.personal import personalize, placeholders
from newsletter.store.models import Paper

SAMPLE = Path(__file__).resolve().parents[2] / "newsletter" / "sources" / "sample" / "papers.json"


def papers() -> dict[int, Paper]:
    items = json.loads(SAMPLE.read_text(encoding="utf-8"))[:6]
    now = datetime(2024, 5, 1, tzinfo=UTC)
    found = {}
    for n, item in enumerate(items):
        found[n] = Paper(
            id=n, source_id=f"s{n}", arxiv_id=f"2405.0000{n}", title=item["title"],
            abstract=item["abstract"], url=f"https://arxiv.org/abs/2405.0000{n}",
            authors=[f"Author Number{k}" for k in range(1 + n * 2)],
            github_url="https://github.com/example/code" if n % 2 == 0 else None,
            upvotes=[128, 54, 0, 17, 3, 0][n], first_seen_at=now, updated_at=now,
        )
    return found


def digest_html(settings: Settings) -> str:
    holes = placeholders()
    shared = render_digest(
        settings, papers=papers(), paper_ids=list(range(6)),
        whys=['Matches your topic "LLM safety": alignment, jailbreak'] * 6,
        issue_date=date(2024, 5, 1), frequency="daily", trending_only=False,
        email=holes["recipient"], preferences_url=holes["preferences_url"],
        unsubscribe_url=holes["unsubscribe_url"],
    )
    assert shared is not None
    mine = personalize(shared, {"recipient": "reader@example.org",
                                "preferences_url": "https://papers.example.org/preferences/t",
                                "unsubscribe_url": "https://papers.example.org/unsubscribe/t"})
    return mine.html


@pytest.mark.browser
@pytest.mark.parametrize(("width", "scheme"), [(375, "light"), (600, "light"), (600, "dark")])
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
        suffix = "-dark" if scheme == "dark" else ""
        page.screenshot(path=str(artifacts_dir / f"digest-{width}{suffix}.png"), full_page=True)
    finally:
        page.close()
