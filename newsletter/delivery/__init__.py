"""Delivery, grouped by job.

* :mod:`~newsletter.delivery.editions`: building an edition (who is due, which papers each gets).
* :mod:`~newsletter.delivery.ledger`: the ledger rows that are also the send queue: claims under
  a lease, outcomes, counts per edition.
* :mod:`~newsletter.delivery.messages`: laying out one email: headers, parts, DKIM.
* :mod:`~newsletter.delivery.sending`: getting it out: SMTP pool or dev mailbox, the sender loop.
* :mod:`~newsletter.delivery.failures`: the one decision "temporary, permanent or ambiguous, and
  when to try again".
"""
