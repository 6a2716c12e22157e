"""How the emails the public pages earn leave: never from memory.

A sign-up, a confirmation or new preferences writes its email into the delivery ledger in the
same transaction as the change (:mod:`newsletter.web.accounts`), and the page only answers
once that is committed. A sender delivers it: ``newsletter serve``'s own sender (woken at once
through :meth:`Web.mail_queued`), any ``newsletter worker``, or, when the app runs on its own
(``create_app`` with ``send_account_emails``), :func:`account_sender` below. A process killed
the instant after answering loses nothing: the row is there for whoever runs next.
"""

from __future__ import annotations

import asyncio
import logging
import random

from newsletter.delivery.sending.runs import work
from newsletter.web.state import Web

log = logging.getLogger(__name__)


async def account_sender(web: Web, stop: asyncio.Event) -> None:
    """Send account emails only (digests are the service's sender's job) until ``stop``."""
    try:
        summary = await work(
            web.db, web.settings, name="web", stop=stop, clock=web.clock, rng=random.Random(),
            wake=web.mail_waiting, digests=False,
        )
        log.info("account email sender stopped: %s", summary)
    except Exception:
        log.exception("account email sender stopped with an error; emails stay queued")
