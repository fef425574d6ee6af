"""Online backups of the SQLite file: a consistent copy taken with SQLite's backup API while
the app keeps reading and writing.

The copy is made in one backup step, which reads one snapshot of the database; in WAL mode
(store.connect sets it) writers carry on meanwhile, and a copy made in several steps would
restart whenever another connection wrote. The copy goes to a temporary file beside the
target, is switched out of WAL mode (one self-contained file), checked with
PRAGMA integrity_check, and only then renamed over the target: an existing backup is never
left half-written.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..errors import StoreError


@dataclass(frozen=True)
class BackupReport:
    source: Path
    target: Path
    bytes: int
    schema_version: int  # PRAGMA user_version of the copy

    def as_json(self) -> dict:
        return {"database": str(self.source), "backup": str(self.target), "bytes": self.bytes,
                "schema_version": self.schema_version}


def backup_database(db_path: str | os.PathLike, target: str | os.PathLike) -> BackupReport:
    """Copy the database at `db_path` to `target` (replaced if it exists)."""
    source_path, target_path = Path(db_path).resolve(), Path(target).resolve()
    if not source_path.is_file():
        raise StoreError(f"cannot back up {source_path}: there is no database there")
    if target_path == source_path:
        raise StoreError(f"cannot back up {source_path} onto itself: name another file")
    if target_path.is_dir():
        raise StoreError(f"cannot back up to {target_path}: it is a directory; name a file")
    if not target_path.parent.is_dir():
        raise StoreError(f"cannot back up to {target_path}: the directory {target_path.parent} does not exist")
    temporary = target_path.with_name(f".{target_path.name}.{os.getpid()}.partial")
    source = copy = None
    try:
        # mode=rw: never create a database that is not there; no migration either, a backup
        # copies what is, whatever its schema version
        source = sqlite3.connect(f"{source_path.as_uri()}?mode=rw", uri=True)
        source.execute("PRAGMA busy_timeout = 5000")
        copy = sqlite3.connect(temporary)
        source.backup(copy)  # pages=-1: the whole database in one step, from one snapshot
        copy.execute("PRAGMA journal_mode = DELETE")
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        version = copy.execute("PRAGMA user_version").fetchone()[0]
        copy.close()
        copy = None
        if verdict != "ok":
            raise StoreError(f"the backup of {source_path} failed its integrity check: {verdict}")
        os.replace(temporary, target_path)
    except sqlite3.Error as e:
        raise StoreError(f"cannot back up {source_path} to {target_path}: {e}") from e
    except OSError as e:
        raise StoreError(f"cannot write the backup {target_path}: {e.strerror or e}") from e
    finally:
        for connection in (copy, source):
            if connection is not None:
                connection.close()
        temporary.unlink(missing_ok=True)
    return BackupReport(source=source_path, target=target_path, bytes=target_path.stat().st_size,
                        schema_version=version)
