"""Opening the SQLite file: pragmas, migrations, transactions."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import DatabaseDamaged, StoreError
from .schema import MIGRATIONS


def connect(path: str | Path, *, check: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at `path`; with `check`, read it
    all once (PRAGMA quick_check) so damage is reported at start, not as failing pages.

    WAL lets the web app read while a collect writes; the busy timeout makes a second
    writer wait instead of failing. The connection is in autocommit mode: writes that
    belong together go through `transaction`.
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        # SQLite would take an empty file for a new database and fill it with empty tables,
        # hiding that whatever was there is gone.
        raise DatabaseDamaged(str(path), "an empty file, 0 bytes")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
        if check and (verdict := conn.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            conn.close()
            raise DatabaseDamaged(str(path), f"quick_check: {verdict}")
    except sqlite3.Error as e:
        if is_damage(e):
            raise DatabaseDamaged(str(path), str(e)) from e
        raise StoreError(f"cannot open database {path}: {e}") from e
    except OSError as e:
        raise StoreError(f"cannot open database {path}: {e}") from e
    return conn


def is_damage(error: BaseException) -> bool:
    """SQLITE_CORRUPT or SQLITE_NOTADB: the file itself is broken (not a busy or full disk)."""
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    return (getattr(error, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB")
            or "malformed" in str(error) or "not a database" in str(error))


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
        # SQLite ends the transaction itself on some errors (a full disk): a ROLLBACK then
        # would fail and hide the error that matters.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def database_file(conn: sqlite3.Connection) -> str:
    """The main database's file path; "" for an in-memory database."""
    return conn.execute("PRAGMA database_list").fetchone()[2]
