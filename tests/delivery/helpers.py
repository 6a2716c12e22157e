"""Papers and subscribers for delivery tests, written straight to the store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from newsletter.preferences import TopicSpec
from newsletter.store.database import Database
from newsletter.store.models import Frequency, Paper, SubscriberStatus
from newsletter.store.subscribers import create_subscriber

NOW = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)

PAPERS = [
    ("Robust speech recognition for noisy far-field audio",
     "We train an automatic speech recognition model on noisy far-field recordings and reduce "
     "word error rate on meeting transcription benchmarks."),
    ("Streaming speech recognition with low latency transducers",
     "A streaming transducer for automatic speech recognition with low latency on device."),
    ("Graph neural networks for molecule property prediction",
     "Message passing graph neural networks predict molecular properties from molecular graphs."),
    ("Scaling laws for graph neural networks",
     "We study how graph neural network accuracy scales with data and parameters on node "
     "classification."),
    ("Offline reinforcement learning from human preferences",
     "Reinforcement learning agents learn reward models from human preference comparisons."),
    ("Diffusion models for image super-resolution",
     "A denoising diffusion model for single image super-resolution with sharp textures."),
]

SAMPLE = Path(__file__).resolve().parents[2] / "newsletter" / "sources" / "sample" / "papers.json"


def sample_papers(count: int = 60, skip: int = 0) -> list[tuple[str, str]]:
    """Real titles and abstracts: relevance is judged against the pool, which must be varied."""
    items = json.loads(SAMPLE.read_text(encoding="utf-8"))[skip : skip + count]
    return [(item["title"], item["abstract"]) for item in items]


def add_papers(db: Database, papers: Sequence[tuple[str, str]] | None = None, *,
               now: datetime = NOW, upvotes: int = 10, prefix: str = "p") -> list[int]:
    papers = [*PAPERS, *sample_papers()] if papers is None else papers
    with db.session() as session:
        rows = [
            Paper(
                source_id=f"{prefix}{n}", arxiv_id=f"2405.{n:05d}", title=title, abstract=abstract,
                authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"],
                url=f"https://arxiv.org/abs/2405.{n:05d}",
                github_url="https://github.com/example/code" if n % 2 else None,
                upvotes=upvotes + n, first_seen_at=now, updated_at=now,
                categories=[], ai_keywords=[], sources=["test"],
            )
            for n, (title, abstract) in enumerate(papers)
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def add_subscriber(
    db: Database, email: str, topics: Sequence[str] = ("speech recognition",), *,
    frequency: Frequency = Frequency.DAILY, always_send: bool = False, digest_size: int = 10,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
) -> int:
    with db.session() as session:
        subscriber = create_subscriber(
            session, email, [TopicSpec.parse(t) for t in topics], now=NOW, status=status,
            frequency=frequency, always_send=always_send, digest_size=digest_size,
        )
        return subscriber.id


def add_many(db: Database, count: int, topics: Sequence[str] = ("speech recognition",)) -> None:
    """``count`` active daily subscribers in one transaction."""
    specs = [TopicSpec.parse(t) for t in topics]
    with db.session() as session:
        for n in range(count):
            create_subscriber(session, f"reader{n}@example.org", specs, now=NOW)
