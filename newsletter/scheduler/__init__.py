"""When things happen: ingest on an interval, and each subscriber's edition at their local hour.

``due`` is pure (who is due at ``now``); ``jobs`` does one pass of each job against the
database; ``service`` runs them on an APScheduler ``AsyncIOScheduler`` inside ``newsletter serve``.
"""
