"""Use cases: one transaction each, permissions, audit, outbox. No Qt here."""
