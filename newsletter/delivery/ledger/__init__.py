"""The delivery ledger: one row per email, which is also the send queue."""
