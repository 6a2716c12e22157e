"""The public web front door: sign-up, confirm, preferences, unsubscribe, health, dev mailbox."""

from newsletter.web.app import create_app

__all__ = ["create_app"]
