"""Delivery: laying out messages, sending them (SMTP pool or dev mailbox), and the ledger
that makes each digest go out exactly once. See :mod:`newsletter.delivery.sender` for the
sending loop and the ambiguous-delivery policy."""
