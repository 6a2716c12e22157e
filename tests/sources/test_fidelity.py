"""Ingest fidelity on recordings in arXiv's published formats: people, Unicode, errors, revisions,
paging to the real end."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from newsletter.errors import SourceError
from newsletter.sources.arxiv_api import ArxivApiSource
from newsletter.sources.arxiv_rss import ArxivRssSource
from newsletter.sources.arxiv_xml import split_creators
from newsletter.sources.latex import tex_to_unicode
from newsletter.sources.records import ListedPaper, Revision
from tests.sources.conftest import FakeTime, Serve, atom_pages, fixture_bytes, make_fetcher

API = "https://export.arxiv.org/api/query"
RSS = "https://rss.arxiv.org/rss"
AFFILIATIONS = fixture_bytes("arxiv_rss_cs_LG_affiliations.xml")
ATOM = fixture_bytes("arxiv_query_cs_CV.xml")
EMPTY_ATOM = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
    b'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
    b"<id>https://arxiv.org/api/x</id><title>arXiv Query</title>"
    b"<opensearch:itemsPerPage>200</opensearch:itemsPerPage>"
    b"<opensearch:totalResults>0</opensearch:totalResults>"
    b"<opensearch:startIndex>0</opensearch:startIndex></feed>"
)


def _rss(serve: Serve, fake_time: FakeTime, body: bytes, status: int = 200) -> ArxivRssSource:
    client, _ = serve(lambda request: httpx.Response(status, content=body))
    return ArxivRssSource(make_fetcher(client, fake_time), RSS, ["cs.LG"])


def test_creators_with_affiliations_are_people(serve: Serve, fake_time: FakeTime) -> None:
    dao, bridges, husky, old, *rest = list(_rss(serve, fake_time, AFFILIATIONS).items())
    assert rest == []  # the ``absonly`` announcement is neither a paper nor a revision
    assert isinstance(dao, ListedPaper) and isinstance(bridges, ListedPaper)
    assert dao.authors == ("Jadelynn Dao", "José García", "Jörg Müller", "Yisong Yue")
    assert bridges.authors == ("Łukasz Nowak", "Françoise Dupont", "Ada Quill")
    assert isinstance(old, Revision) and old.record.authors == ("Other Author",)
    assert isinstance(husky, Revision) and len(husky.record.authors) == 5


def test_tex_in_titles_becomes_unicode_and_abstracts_stay_as_published(
    serve: Serve, fake_time: FakeTime
) -> None:
    dao, bridges, *_ = list(_rss(serve, fake_time, AFFILIATIONS).items())
    assert isinstance(dao, ListedPaper) and isinstance(bridges, ListedPaper)
    assert dao.title == "Neural Decoding of Motor Intent with α-Divergence Priors & Sparse Coding"
    assert bridges.title == "Schrödinger Bridges for Time Series, Revisited"
    assert dao.abstract.endswith(r"based on the $\alpha$-divergence, for $n<k$ electrodes.")
    assert dao.announced_on == date(2024, 6, 13)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (r"Jos\'e Garc{\'\i}a", "José García"),
        (r"National Center for Missing \& Exploited", "National Center for Missing & Exploited"),
        (r'M{\"o}bius Strips', "Möbius Strips"),
        (r"$\alpha$-Divergence at 50% of $\mathcal{O}(n^2)$", "α-Divergence at 50% of 𝒪(n^2)"),
        ("content reconstruction~-- that of", "content reconstruction – that of"),  # tie, dash
        # Ordinary text, and math without macros, is left exactly as it was ...
        ("Bounds for $n<k$ Views at 50% & $5 Each", "Bounds for $n<k$ Views at 50% & $5 Each"),
        ("Ünïcödé already, (in parentheses)", "Ünïcödé already, (in parentheses)"),
        # ... but for TeX's dashes, which arXiv's plain-looking text is written with too.
        ("Foundation Models -- Pre-trained", "Foundation Models – Pre-trained"),
        ('"FaceScan"--a model--for R&D, pages 3--9', '"FaceScan"–a model–for R&D, pages 3–9'),
        ("one --- or two", "one — or two"),
        ("the --fast flag, x --> y, a <-- b, ----", "the --fast flag, x --> y, a <-- b, ----"),
    ],
)
def test_tex_to_unicode(raw: str, expected: str) -> None:
    assert tex_to_unicode(raw) == expected


@pytest.mark.parametrize(
    ("creator", "people"),
    [
        ("Ann Lee, Bo Chen and Cy Diaz", ["Ann Lee", "Bo Chen", "Cy Diaz"]),
        (
            "Jadelynn Dao (Andrew and Peggy Cherng Department of Medical Engineering, Caltech), "
            "Yisong Yue (Caltech, Pasadena)",
            ["Jadelynn Dao", "Yisong Yue"],
        ),
        # arXiv's older numbered form: affiliations listed after the last author.
        ("A. One (1), B. Two (1 and 2) ((1) MIT, (2) ETH Zurich)", ["A. One", "B. Two"]),
        ("Unbalanced (Paren, Author", ["Unbalanced"]),
        ("", []),
    ],
)
def test_split_creators(creator: str, people: list[str]) -> None:
    assert split_creators(creator) == people


@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("arxiv_rss_error_bad_archive.xml", "Bad archive 'xx'. Valid archive names are: astro-ph"),
        ("arxiv_rss_error_bad_subject.xml", "Bad subject class 'XX'. Valid subject classes"),
    ],
)
def test_an_rss_error_feed_is_a_source_error_with_its_reason(
    serve: Serve, fake_time: FakeTime, fixture: str, reason: str, status: int
) -> None:
    source = _rss(serve, fake_time, fixture_bytes(fixture), status)
    with pytest.raises(SourceError, match="arXiv refused the feed: " + reason):
        list(source.items())


def test_an_api_error_entry_answered_with_400_keeps_its_reason(
    serve: Serve, fake_time: FakeTime
) -> None:
    client, _ = serve(lambda r: httpx.Response(400, content=fixture_bytes("arxiv_query_error.xml")))
    source = ArxivApiSource(make_fetcher(client, fake_time), API, ["cs.CV"], date(2024, 6, 10))
    with pytest.raises(SourceError, match="refused the query: start must be an integer"):
        list(source.items())


def test_rate_limit_text_is_quoted(serve: Serve, fake_time: FakeTime) -> None:
    client, _ = serve(lambda r: httpx.Response(200, content=b"Rate exceeded."))
    source = ArxivApiSource(make_fetcher(client, fake_time), API, ["cs.CV"], None)
    with pytest.raises(SourceError, match=r"not well-formed XML .*'Rate exceeded\.'"):
        list(source.items())


def test_an_unknown_category_is_an_error_a_quiet_day_is_not(
    serve: Serve, fake_time: FakeTime
) -> None:
    """A day without papers is asked again without the day: only a category with no paper at
    all is reported, with its name."""

    def handler(request: httpx.Request) -> httpx.Response:
        query = request.url.params["search_query"]
        if "submittedDate" in query or "cs.XX" in query:
            return httpx.Response(200, content=EMPTY_ATOM)
        return atom_pages(ATOM)(request)

    client, server = serve(handler)
    fetcher = make_fetcher(client, fake_time)
    quiet = ArxivApiSource(fetcher, API, ["cs.CV"], date(2024, 6, 8))
    assert list(quiet.items()) == []
    assert [r.url.params["search_query"] for r in server.requests] == [
        "cat:cs.CV AND submittedDate:[202406080000 TO 202406082359]",
        "cat:cs.CV",
    ]
    unknown = ArxivApiSource(fetcher, API, ["cs.XX"], date(2024, 6, 8))
    with pytest.raises(SourceError, match=r"no paper in category 'cs\.XX'"):
        list(unknown.items())


@pytest.mark.parametrize(
    ("claimed", "repeat", "starts"),
    [
        (3, False, ["0", "2"]),  # the real total: two pages, the second short
        (5000, False, ["0", "2"]),  # an overstated total: the short page is the end
        (5000, True, ["0", "2"]),  # a service that ignores start: the repeat is the end
        (None, False, ["0", "2"]),  # no total at all
    ],
)
def test_paging_stops_at_the_real_end(
    serve: Serve, fake_time: FakeTime, claimed: int | None, repeat: bool, starts: list[str]
) -> None:
    client, server = serve(atom_pages(ATOM, total=claimed, repeat=repeat))
    day = date(2024, 6, 10)
    source = ArxivApiSource(make_fetcher(client, fake_time), API, ["cs.CV"], day, page_size=2)
    items = list(source.items())
    assert len(items) == (2 if repeat else 3)
    assert [r.url.params["start"] for r in server.requests] == starts


def test_paging_stops_at_the_total_without_asking_for_an_empty_page(
    serve: Serve, fake_time: FakeTime
) -> None:
    client, server = serve(atom_pages(ATOM))
    day = date(2024, 6, 10)
    source = ArxivApiSource(make_fetcher(client, fake_time), API, ["cs.CV"], day, page_size=3)
    assert len(list(source.items())) == 3
    assert [r.url.params["start"] for r in server.requests] == ["0"]
