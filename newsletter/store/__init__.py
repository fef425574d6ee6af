"""SQLite, and only here: the schema, and one module per domain (items, sources, runs)."""

from .db import connect, database_file, is_damage, transaction

__all__ = ["connect", "database_file", "is_damage", "transaction"]
