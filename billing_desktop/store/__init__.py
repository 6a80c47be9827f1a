"""Persistence: SQLAlchemy models, sessions, migrations, queries. No Qt here."""
