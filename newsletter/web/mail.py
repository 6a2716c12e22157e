"""The emails the public pages send: confirm, manage, welcome, preferences changed.

Each is sent after the response has gone (a background task), so a slow relay never slows a
page and the sign-up answer takes the same time whether or not an email went out. A failed
confirmation or manage email frees its throttle slot so the person can simply try again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from newsletter.delivery.sending.transactional import send_email
from newsletter.render.contexts import (
    confirm_context,
    manage_context,
    preferences_changed_context,
    welcome_context,
)
from newsletter.store.models import Subscriber
from newsletter.tokens import Purpose, link
from newsletter.web.accounts import Notice, NoticeKind, release_claim
from newsletter.web.state import Web

log = logging.getLogger(__name__)


async def send_notice(web: Web, notice: Notice) -> None:
    """Send the confirm or manage email a sign-up earned; on failure, release the throttle."""
    subscriber = notice.subscriber
    settings = web.settings
    if notice.kind is NoticeKind.CONFIRM:
        name = "confirm"
        context = confirm_context(
            settings,
            email=subscriber.email,
            confirm_url=link(settings, Purpose.CONFIRM, subscriber),
            topics=[t.label for t in subscriber.topics],
        )
    else:
        name = "manage"
        context = manage_context(
            settings,
            email=subscriber.email,
            preferences_url=link(settings, Purpose.PREFERENCES, subscriber),
            unsubscribe_url=link(settings, Purpose.UNSUBSCRIBE, subscriber),
        )
    if not await _send(web, name, subscriber, context, with_unsubscribe=name == "manage"):
        await run_in_threadpool(release_claim, web.db, subscriber.id, notice.claimed_at)


async def send_welcome(web: Web, subscriber: Subscriber) -> None:
    await _send_account_email(web, "welcome", welcome_context, subscriber)


async def send_preferences_changed(web: Web, subscriber: Subscriber) -> None:
    await _send_account_email(web, "preferences_changed", preferences_changed_context, subscriber)


async def _send_account_email(
    web: Web, name: str, make_context: Callable[..., dict[str, Any]], subscriber: Subscriber
) -> None:
    """Welcome and preferences-changed mail say the same things: the subscription as it is now."""
    settings = web.settings
    context = make_context(
        settings,
        email=subscriber.email,
        preferences_url=link(settings, Purpose.PREFERENCES, subscriber),
        unsubscribe_url=link(settings, Purpose.UNSUBSCRIBE, subscriber),
        topics=[t.label for t in subscriber.topics],
        frequency=subscriber.frequency.value,
        send_hour=subscriber.send_hour,
        timezone=subscriber.timezone,
    )
    await _send(web, name, subscriber, context)


async def _send(
    web: Web,
    name: str,
    subscriber: Subscriber,
    context: dict[str, Any],
    *,
    with_unsubscribe: bool = True,
) -> bool:
    """True when the relay took the message; errors are logged, never shown to the visitor."""
    unsubscribe = link(web.settings, Purpose.UNSUBSCRIBE, subscriber) if with_unsubscribe else None
    try:
        await send_email(
            web.settings,
            web.mailer(),
            name=name,
            to=subscriber.email,
            context=context,
            now=web.now(),
            unsubscribe_url=unsubscribe,
        )
    except Exception:
        log.exception("could not send the %s email to subscriber %s", name, subscriber.id)
        return False
    return True
