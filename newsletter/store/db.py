"""Opening the SQLite file: pragmas, migrations, transactions."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import StoreError
from .schema import MIGRATIONS


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at `path`.

    WAL lets the web app read while a collect writes; the busy timeout makes a second
    writer wait instead of failing. The connection is in autocommit mode: writes that
    belong together go through `transaction`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
    except (sqlite3.Error, OSError) as e:
        raise StoreError(f"cannot open database {path}: {e}") from e
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations; return the schema version reached."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(f"database schema version {version} is newer than this program "
                         f"({len(MIGRATIONS)}); upgrade the program")
    for number in range(version, len(MIGRATIONS)):
        with transaction(conn):
            migration = MIGRATIONS[number]
            if callable(migration):
                migration(conn, _statements)
            else:
                for statement in _statements(migration):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Split a migration into statements so they run inside our transaction
    (executescript would commit first)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    return [s for s in statements if s]


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception: all or nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def database_file(conn: sqlite3.Connection) -> str:
    """The main database's file path; "" for an in-memory database."""
    return conn.execute("PRAGMA database_list").fetchone()[2]
