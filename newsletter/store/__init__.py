"""Persistence: the schema, the one session factory, migrations, and the queries each role needs."""
