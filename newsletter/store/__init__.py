"""SQLite, and only here: the schema, and one module per domain (items, sources, runs)."""

from .db import connect, transaction

__all__ = ["connect", "transaction"]
