"""One error vocabulary for the whole service.

Every error we raise on purpose derives from :class:`NewsletterError`, so the CLI and the web app
can turn any of them into a one-line reason instead of a stack trace.
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Root of every error the service raises on purpose."""


class ConfigurationError(NewsletterError):
    """A setting is missing or unsafe; raised at start so nothing runs half-configured."""


class InvalidInput(NewsletterError):
    """Input from a person or a file is wrong; ``where`` names the field or line to fix."""

    def __init__(self, reason: str, *, where: str | None = None) -> None:
        self.reason = reason
        self.where = where
        super().__init__(f"{where}: {reason}" if where else reason)


class NotFound(NewsletterError):
    """The thing asked for does not exist (a subscriber, an edition)."""


class SourceError(NewsletterError):
    """A paper source could not be read this time; the next scheduled run retries it."""


class BadItem(NewsletterError):
    """One feed item is malformed; it is skipped and reported, the rest of the batch goes on."""


class DeliveryError(NewsletterError):
    """Sending one message failed. Subclasses say whether trying again can help."""

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        self.reason = reason
        self.code = code
        super().__init__(f"{code} {reason}" if code is not None else reason)


class TemporaryDeliveryError(DeliveryError):
    """4xx replies, 552, dropped connections before DATA ends: retried with backoff."""


class PermanentDeliveryError(DeliveryError):
    """5xx replies (552 aside): the delivery fails and counts toward suppression."""


class AmbiguousDeliveryError(DeliveryError):
    """The link died after the final '.' but before the reply: the server may have accepted it."""
