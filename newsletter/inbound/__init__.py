"""Mail that comes back: unsubscribe requests, bounces, complaints and auto-replies.

Two doors (an LMTP server a local MTA delivers to, and polling an IMAP mailbox) feed one
:class:`~newsletter.inbound.processor.Processor`. Reading a message is pure
(:mod:`newsletter.inbound.decide`: bytes in, a :class:`~newsletter.inbound.decide.Decision` out);
what a decision does to subscribers is in :mod:`newsletter.inbound.effects`.
"""
