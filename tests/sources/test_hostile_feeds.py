"""Feeds cannot take a batch down: oversized answers, entity bombs, external entities, huge lists
and numbers are refused or clipped, with a reason, and the rest goes on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newsletter.errors import BadItem, SourceError
from newsletter.sources.arxiv_api import ArxivApiSource
from newsletter.sources.arxiv_rss import ArxivRssSource
from newsletter.sources.checks import MAX_COUNT, MAX_LIST, count_field, names_field
from newsletter.sources.http_client import HttpFetcher, HttpStatusError, Validators
from newsletter.sources.huggingface import HuggingFaceSource
from newsletter.sources.records import make_record
from tests.sources.conftest import FakeTime, Serve, fixture_bytes, make_fetcher

RSS = "https://rss.arxiv.org/rss"
API = "https://export.arxiv.org/api/query"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>cs.CL updates on arXiv.org</title>
<item><title>&lol9;</title><guid>oai:arXiv.org:2406.06469v1</guid></item></channel></rss>"""


def _xxe(path: str) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY secret SYSTEM "file://{path}">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2406.06525v1</id>
<title>&secret;</title></entry></feed>""".encode()


def test_an_entity_bomb_is_refused_before_expansion(serve: Serve, fake_time: FakeTime) -> None:
    client, _ = serve(lambda request: httpx.Response(200, content=BILLION_LAUGHS))
    source = ArxivRssSource(make_fetcher(client, fake_time), RSS, ["cs.CL"])
    with pytest.raises(SourceError, match="refused XML that declares entities"):
        list(source.items())


def test_an_external_entity_is_never_read(
    serve: Serve, fake_time: FakeTime, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    client, _ = serve(lambda request: httpx.Response(200, content=_xxe(str(secret))))
    source = ArxivApiSource(make_fetcher(client, fake_time), API, ["cs.CV"], None)
    with pytest.raises(SourceError, match="refused XML that declares entities") as caught:
        list(source.items())
    assert "TOP-SECRET" not in str(caught.value)


def _chunks(total: int, size: int = 65_536) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        sent += size
        yield b"x" * size


class Counting(httpx.SyncByteStream):
    """A body streamed in chunks, with no Content-Length; counts what the client pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in _chunks(self.total):
            self.pulled += len(chunk)
            yield chunk


def test_reading_stops_past_the_size_cap(serve: Serve, fake_time: FakeTime) -> None:
    """A 50 MB answer against a 1 MB cap: the read stops at about 1 MB, and says why."""
    body = Counting(50_000_000)
    client, _ = serve(lambda request: httpx.Response(200, stream=body))
    fetcher = HttpFetcher(client, sleep=fake_time.sleep, validators=Validators(), max_bytes=10**6)
    with pytest.raises(SourceError, match="stopped reading after 1,000,000 bytes"):
        fetcher.get("https://huggingface.co/api/daily_papers")
    assert body.pulled < 1_200_000


def test_a_declared_oversize_is_refused_unread(serve: Serve, fake_time: FakeTime) -> None:
    body = Counting(5_000_000)
    headers = {"Content-Length": "5000000"}
    client, _ = serve(lambda request: httpx.Response(200, stream=body, headers=headers))
    fetcher = HttpFetcher(client, sleep=fake_time.sleep, validators=Validators(), max_bytes=10**6)
    with pytest.raises(SourceError, match="the answer is 5,000,000 bytes, more than the 1,000,000"):
        fetcher.get("https://rss.arxiv.org/rss/cs.CL")
    assert body.pulled == 0


def test_answers_under_the_cap_are_read_whole(serve: Serve, fake_time: FakeTime) -> None:
    listing = fixture_bytes("hf_daily_papers_2024-06-11.json")
    client, _ = serve(lambda request: httpx.Response(200, stream=httpx.ByteStream(listing)))
    fetcher = HttpFetcher(client, sleep=fake_time.sleep, validators=Validators(), max_bytes=10**6)
    response = fetcher.get("https://huggingface.co/api/daily_papers")
    assert response is not None and response.content == listing


def test_a_json_error_answer_is_quoted(serve: Serve, fake_time: FakeTime) -> None:
    client, _ = serve(
        lambda request: httpx.Response(400, json={"error": "Invalid date: not a date"})
    )
    source = HuggingFaceSource(make_fetcher(client, fake_time), "https://h/api/daily", [None])
    with pytest.raises(HttpStatusError, match="HTTP 400: Invalid date: not a date"):
        list(source.items())


@pytest.mark.parametrize(
    ("value", "stored"),
    [(10**30, MAX_COUNT), (2**31 + 5, MAX_COUNT), (MAX_COUNT, MAX_COUNT), (7, 7)],
)
def test_counts_are_clipped(value: int, stored: int) -> None:
    assert count_field(value, "upvotes") == stored


def test_a_huge_author_list_is_refused_in_one_pass() -> None:
    """50,000 distinct authors: refused as soon as the 2,001st distinct name is seen; 50,000
    copies of one name are one author. (The old check compared each name with every earlier
    one: quadratic, 13 s for 50,000; bench/bench_ingest.py --authors prints today's figure.)"""
    many = [f"Author Number {n}" for n in range(50_000)]
    with pytest.raises(BadItem, match=f"authors has more than {MAX_LIST} entries"):
        names_field(many, "authors")
    assert names_field(["Ada Quill"] * 50_000, "authors") == ("Ada Quill",)
    record = make_record("hf", title="T", own_id="x", authors=many[:MAX_LIST] * 20)
    assert len(record.authors) == MAX_LIST
