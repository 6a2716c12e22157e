"""The schema, as typed SQLAlchemy models.

Alembic migrations are the only thing that create or change tables; ``tests/store`` checks that
these models and the migrations agree. Duplicates are made impossible by unique constraints, not by
checks in Python: one subscriber per normalized email, one paper per source id, one edition per
frequency and day, one delivery per edition and subscriber, one verdict per subscriber and paper.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[int]: JSON}  # noqa: RUF012


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


class Frequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class Verdict(enum.StrEnum):
    """A reader's word on a paper: "More like this" or "Not for me"."""

    LIKE = "like"
    DISLIKE = "dislike"


class DeliveryStatus(enum.StrEnum):
    """Life of one email. ``ambiguous``: the link died after DATA's final '.', before the reply."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    AMBIGUOUS = "ambiguous"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Paper(Base):
    __tablename__ = "papers"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(200), unique=True)
    arxiv_id: Mapped[str | None] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(default=list)
    url: Mapped[str | None] = mapped_column(String(500))
    pdf_url: Mapped[str | None] = mapped_column(String(500))
    github_url: Mapped[str | None] = mapped_column(String(500))
    github_stars: Mapped[int | None] = mapped_column(Integer)
    project_url: Mapped[str | None] = mapped_column(String(500))
    thumbnail_url: Mapped[str | None] = mapped_column(String(500))
    categories: Mapped[list[str]] = mapped_column(default=list)
    ai_summary: Mapped[str | None] = mapped_column(Text)
    ai_keywords: Mapped[list[str]] = mapped_column(default=list)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    featured_on: Mapped[date | None] = mapped_column(Date, index=True)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    sources: Mapped[list[str]] = mapped_column(default=list)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Subscriber(Base):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[SubscriberStatus] = mapped_column(
        _enum(SubscriberStatus, "subscriber_status"), default=SubscriberStatus.PENDING, index=True
    )
    frequency: Mapped[Frequency] = mapped_column(
        _enum(Frequency, "frequency"), default=Frequency.DAILY
    )
    send_hour: Mapped[int] = mapped_column(Integer, default=7)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_size: Mapped[int] = mapped_column(Integer, default=10)
    always_send: Mapped[bool] = mapped_column(Boolean, default=False)
    hard_bounces: Mapped[int] = mapped_column(Integer, default=0)
    # Rotated whenever a link must stop working (confirmed, erased): makes tokens single use.
    token_nonce: Mapped[str] = mapped_column(String(32), default="")
    last_confirmation_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    origin: Mapped[str] = mapped_column(String(16), default="cli")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    topics: Mapped[list[Topic]] = relationship(
        back_populates="subscriber",
        cascade="all, delete-orphan",
        order_by="Topic.position",
        passive_deletes=True,
    )


class Topic(Base):
    """One interest of a subscriber: a label as typed, plus keywords, authors, exclusions."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(200))
    keywords: Mapped[list[str]] = mapped_column(default=list)
    authors: Mapped[list[str]] = mapped_column(default=list)
    excluded: Mapped[list[str]] = mapped_column(default=list)
    # Curated topics keep their description: matching reads it as part of the topic's meaning.
    description: Mapped[str] = mapped_column(Text, default="")

    subscriber: Mapped[Subscriber] = relationship(back_populates="topics")


class Edition(Base):
    """One issue of the newsletter: a day's daily edition or a week's weekly one."""

    __tablename__ = "editions"
    __table_args__ = (UniqueConstraint("frequency", "issue_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    frequency: Mapped[Frequency] = mapped_column(_enum(Frequency, "frequency"))
    issue_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Delivery(Base):
    """One email of one edition to one subscriber; the ledger rows are also the send queue."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id"),
        Index("ix_deliveries_claim", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    paper_ids: Mapped[list[int]] = mapped_column(default=list)
    reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[str | None] = mapped_column(String(250))
    last_reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PaperVerdict(Base):
    """A reader's "More like this" / "Not for me" on one paper, for the topic it came under.

    ``topic`` is the label of the topic the paper was given for; None for an example the reader
    added on the preferences page for all their topics. One verdict per subscriber and paper:
    saying it again (or the other way) updates the row.
    """

    __tablename__ = "verdicts"
    __table_args__ = (UniqueConstraint("subscriber_id", "paper_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE")
    )
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict, "verdict"))
    topic: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
