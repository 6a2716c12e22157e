"""One function per email returning exactly the context its templates read.

Keeping these apart from sending means the web app, the CLI and the tests build the same
context the same way, and a template change that needs a new value fails loudly in one place
(the environments use ``StrictUndefined``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from newsletter.config import Settings
from newsletter.render.items import DigestEntry
from newsletter.shorten import cut_at_word

# Inboxes show about 60-80 characters of a subject: the lead title gets what the count leaves.
SUBJECT_LEAD_CHARS = 60
SUBJECT_ALONE_CHARS = 90
# The preview line after the subject; clients show 90-140 characters of it.
PREHEADER_CHARS = 140


def _common(settings: Settings, *, email: str) -> dict[str, Any]:
    """What every footer shows; per-email links default to None (no link shown)."""
    return {
        "sender_name": settings.sender_name,
        "postal_address": settings.postal_address,
        "base_url": settings.base_url,
        "contact_address": settings.sender_address,
        "recipient": email,
        "preferences_url": None,
        "unsubscribe_url": None,
    }


def confirm_context(
    settings: Settings, *, email: str, confirm_url: str, topics: Sequence[str]
) -> dict[str, Any]:
    return {
        **_common(settings, email=email),
        "confirm_url": confirm_url,
        "topics": list(topics),
        "expires_hours": round(settings.confirm_token_max_age_hours),
    }


def manage_context(
    settings: Settings, *, email: str, preferences_url: str, unsubscribe_url: str
) -> dict[str, Any]:
    return {
        **_common(settings, email=email),
        "preferences_url": preferences_url,
        "unsubscribe_url": unsubscribe_url,
    }


def welcome_context(
    settings: Settings,
    *,
    email: str,
    preferences_url: str,
    unsubscribe_url: str,
    topics: Sequence[str],
    frequency: str,
    send_hour: int,
    timezone: str,
) -> dict[str, Any]:
    return {
        **manage_context(
            settings, email=email, preferences_url=preferences_url, unsubscribe_url=unsubscribe_url
        ),
        "topics": list(topics),
        "frequency": frequency,
        "send_time": f"{send_hour:02d}:00 ({timezone})",
    }


# The preferences-changed email states the same facts as the welcome: the subscription as it is.
preferences_changed_context = welcome_context


def unsubscribed_context(settings: Settings, *, email: str, subscribe_url: str) -> dict[str, Any]:
    """No unsubscribe link here: the person has just left; a way back is enough."""
    return {**_common(settings, email=email), "subscribe_url": subscribe_url}


def digest_context(
    settings: Settings,
    *,
    email: str,
    items: Sequence[DigestEntry],
    issue_date: date,
    frequency: str,
    preferences_url: str,
    unsubscribe_url: str,
    trending_only: bool = False,
) -> dict[str, Any]:
    """``trending_only``: nothing matched, the subscriber asked for an email anyway."""
    issue_label = f"{issue_date:%A}, {issue_date:%B} {issue_date.day}, {issue_date:%Y}"
    return {
        **manage_context(
            settings, email=email, preferences_url=preferences_url, unsubscribe_url=unsubscribe_url
        ),
        "items": list(items),
        "issue_date": issue_date,
        "issue_label": issue_label,
        "frequency": frequency,
        "trending_only": trending_only,
        "lead_title": cut_at_word(
            items[0].title if items else "",
            SUBJECT_LEAD_CHARS if len(items) > 1 else SUBJECT_ALONE_CHARS,
        ),
        "preheader": digest_preheader(items, issue_label),
    }


def digest_preheader(items: Sequence[DigestEntry], issue_label: str) -> str:
    """The count and the date, then the titles after the first (the subject already shows it),
    so the inbox preview adds to the subject instead of repeating it."""
    count = f"{len(items)} paper{'s' if len(items) != 1 else ''} for {issue_label}"
    rest = [item.title for item in items[1:3]]
    if not rest:
        return count
    return cut_at_word(f"{count}. Also: {'; '.join(rest)}", PREHEADER_CHARS)
