"""The one processor both doors (LMTP, IMAP) hand messages to.

It reads the message (:func:`~newsletter.inbound.decide.decide`, pure), applies the decision
(:func:`~newsletter.inbound.effects.apply`) and logs one line. It never raises for a message:
whatever arrives, the door can answer "delivered" and move on. Only a database failure is passed
up, so the MTA keeps the message and tries again (LMTP 451) or the mailbox keeps it unflagged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from newsletter.clock import utc_now
from newsletter.config import Settings
from newsletter.inbound.decide import Decision, decide
from newsletter.inbound.effects import Handled, apply, fingerprint
from newsletter.store.database import Database
from newsletter.store.models import InboundKind

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 10 * 1024 * 1024



class Processor:
    def __init__(
        self, db: Database, settings: Settings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def handle(self, raw: bytes, recipients: Sequence[str], *, source: str) -> Handled:
        """Handle one message delivered to ``recipients`` (the envelope, when the door knows it).

        Raises only ``SQLAlchemyError`` (the store is unavailable: try again later).
        """
        now = self.clock()
        recipient = recipients[0] if recipients else ""
        key = fingerprint(recipient, raw)
        try:
            if len(raw) > MAX_MESSAGE_BYTES:
                decision = Decision(InboundKind.IGNORED, f"message of {len(raw)} bytes: too large")
            else:
                decision = decide(raw, recipients, self.settings, now)
            handled = apply(self.db, self.settings, decision, key=key, source=source, now=now)
        except SQLAlchemyError:
            raise
        except Exception as exc:  # a bug must not lose the rest of the mailbox
            log.exception("inbound message to %s could not be handled", recipient)
            return Handled(InboundKind.IGNORED, f"internal error: {exc!r}"[:300])
        again = " (already handled)" if handled.duplicate else ""
        log.info(
            "inbound %s to %s: %s%s (subscriber %s, delivery %s): %s", source, recipient,
            handled.kind.value, again, handled.subscriber_id, handled.delivery_id, handled.reason,
        )
        return handled
