"""Reading the papers and topics files of ``newsletter match`` (the shared evaluation format).

Every problem is reported as one :class:`InvalidInput` naming the file and the field, so an
operator can fix the file without reading a stack trace.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from newsletter.errors import InvalidInput
from newsletter.matching.feedback import fade
from newsletter.matching.papers import PaperRecord, normalized_title, title_id
from newsletter.preferences import Example, TopicSpec


@dataclass(frozen=True)
class NamedTopic:
    id: str
    spec: TopicSpec


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read file ({exc.strerror})", where=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput("not UTF-8 text", where=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not JSON: {exc.msg} at line {exc.lineno}", where=str(path)) from exc


def parse_published(text: str, now: datetime) -> datetime | None:
    """Listings print "Feb 19, 2024", or "Jun 22" for the current year; ISO dates pass too."""
    text = text.strip()
    if not text:
        return None
    for pattern in ("%b %d, %Y", "%B %d, %Y"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            pass
    for pattern in ("%b %d", "%B %d"):
        try:
            day = datetime.strptime(f"{text} {now.year}", f"{pattern} %Y").replace(tzinfo=UTC)
        except ValueError:
            continue
        return day if day <= now else day.replace(year=day.year - 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"unrecognised date {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("must be a list of strings", where=where)
    return tuple(value)


def _title_and_abstract(raw: dict[str, Any], where: str) -> tuple[str, str]:
    """The two fields every paper record needs, checked the same way for pools and verdicts."""
    title = raw.get("title")
    if not isinstance(title, str) or not normalized_title(title):
        raise InvalidInput("missing or empty title", where=f"{where}.title")
    abstract = raw.get("abstract", "")
    if not isinstance(abstract, str):
        raise InvalidInput("must be a string", where=f"{where}.abstract")
    return title, abstract


def _paper(raw: Any, where: str, now: datetime) -> PaperRecord:
    if not isinstance(raw, dict):
        raise InvalidInput("must be an object", where=where)
    title, abstract = _title_and_abstract(raw, where)
    upvotes = raw.get("upvotes") or 0
    if not isinstance(upvotes, int) or isinstance(upvotes, bool) or upvotes < 0:
        raise InvalidInput("must be a non-negative integer", where=f"{where}.upvotes")
    paper_id = raw.get("id", title_id(title))
    if not isinstance(paper_id, int | str) or isinstance(paper_id, bool):
        raise InvalidInput("must be an integer or a string", where=f"{where}.id")
    published = raw.get("published") or raw.get("published_at") or ""
    if not isinstance(published, str):
        raise InvalidInput("must be a date string", where=f"{where}.published")
    try:
        published_at = parse_published(published, now)
    except InvalidInput as exc:
        raise InvalidInput(exc.reason, where=f"{where}.published") from None
    featured = raw.get("featured_on")
    try:
        featured_on = date.fromisoformat(featured) if featured else None
    except (TypeError, ValueError):
        raise InvalidInput("must be a YYYY-MM-DD date", where=f"{where}.featured_on") from None
    authors = _str_list(raw.get("authors", []), f"{where}.authors")
    return PaperRecord(paper_id, title, abstract, authors, upvotes, published_at, featured_on)


def load_papers(path: Path, *, now: datetime) -> list[PaperRecord]:
    """Papers in file order; a repeated listing of the same paper (same id) is kept once."""
    data = _read(path)
    if not isinstance(data, list):
        raise InvalidInput("must be a JSON list of papers", where=str(path))
    papers: dict[int | str, PaperRecord] = {}
    for index, raw in enumerate(data):
        paper = _paper(raw, f"{path}: paper [{index}]", now)
        papers.setdefault(paper.id, paper)
    return list(papers.values())


def _example(raw: Any, where: str) -> Example:
    """A paper the reader judged: ``title``, ``abstract``, optional ``authors`` and ``age_days``.

    ``age_days`` (how long ago the verdict was given) fades its weight exactly as a stored
    verdict's does; without it the verdict counts as given today.
    """
    if not isinstance(raw, dict):
        raise InvalidInput("must be an object with a title and an abstract", where=where)
    title, abstract = _title_and_abstract(raw, where)
    authors = _str_list(raw.get("authors", []), f"{where}.authors")
    age = raw.get("age_days", 0)
    if not isinstance(age, int | float) or isinstance(age, bool) or not 0 <= age < math.inf:
        raise InvalidInput("must be a non-negative number of days", where=f"{where}.age_days")
    return Example(title, abstract, authors, fade(float(age)))


def _examples(raw: Any, where: str) -> tuple[Example, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInput("must be a list of papers", where=where)
    return tuple(_example(item, f"{where}[{index}]") for index, item in enumerate(raw))


def _topic(raw: Any, where: str) -> NamedTopic:
    if not isinstance(raw, dict):
        raise InvalidInput("must be an object", where=where)
    topic_id = raw.get("id")
    if not isinstance(topic_id, str) or not topic_id.strip():
        raise InvalidInput("missing or empty id", where=f"{where}.id")
    fields = {}
    for name in ("keywords", "authors", "excluded"):
        fields[name] = _str_list(raw.get(name, []), f"{where}.{name}")
    label = raw.get("label", "")
    description = raw.get("description", "")
    if not isinstance(label, str):
        raise InvalidInput("must be a string", where=f"{where}.label")
    if not isinstance(description, str):
        raise InvalidInput("must be a string", where=f"{where}.description")
    try:
        spec = TopicSpec.build(label, description=description, **fields)
    except InvalidInput as exc:
        raise InvalidInput(exc.reason, where=where) from None
    liked = _examples(raw.get("liked"), f"{where}.liked")
    disliked = _examples(raw.get("disliked"), f"{where}.disliked")
    return NamedTopic(topic_id, replace(spec, liked=liked, disliked=disliked))


def load_topics(path: Path) -> list[NamedTopic]:
    """The ``topics`` list of a topics file; judgements under ``labels`` are the evaluator's.

    A topic may carry ``liked`` and ``disliked`` lists of papers (the reader's verdicts), used
    exactly as a digest uses stored verdicts.
    """
    data = _read(path)
    if not isinstance(data, dict) or not isinstance(data.get("topics"), list):
        raise InvalidInput('must be an object with a "topics" list', where=str(path))
    topics: list[NamedTopic] = []
    seen: set[str] = set()
    for index, raw in enumerate(data["topics"]):
        topic = _topic(raw, f"{path}: topic [{index}]")
        if topic.id in seen:
            raise InvalidInput(f"duplicate id {topic.id!r}", where=f"{path}: topic [{index}].id")
        seen.add(topic.id)
        topics.append(topic)
    return topics
