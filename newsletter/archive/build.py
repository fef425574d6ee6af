"""Building the archive into a directory, incrementally.

A manifest in the directory (.archive-manifest.json) records, for every file the archive
wrote, its SHA-256, its size and the fingerprint of what it was made from. A rebuild
renders a page only when that fingerprint changed (or the file went missing), writes a file
only when its bytes changed, and deletes the files of the last build that this one no longer
makes (an issue gone, a tag no longer used). Files the manifest does not list are never
touched, and a directory that holds other things but no manifest is refused, so a wrong
--out cannot clobber anything.

Each file is written to a temporary name and renamed into place, so a web server reading
the directory during a build sees the old file or the new one, never half of one; a lock
file keeps two builds (the scheduler's and a curator's) from interleaving.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Iterator

from ..config import Settings
from ..errors import ArchiveError
from . import paths
from .pages import ArchiveTemplates, Output, Site, gather

MANIFEST = ".archive-manifest.json"
LOCK = ".archive.lock"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class ArchiveReport:
    out_dir: Path
    issues: tuple[date, ...]  # every issue with a page, newest first
    previews: tuple[date, ...]  # those of them not sent, shown as previews
    tags: int
    files: int  # files the archive consists of
    written: tuple[str, ...]  # paths (relative to out_dir) written because their bytes changed
    unchanged: int
    deleted: tuple[str, ...]

    @property
    def index_path(self) -> Path:
        return self.out_dir / paths.INDEX

    def as_json(self) -> dict:
        return {
            "out_dir": str(self.out_dir), "index": str(self.index_path),
            "issues": len(self.issues), "previews": [d.isoformat() for d in self.previews], "tags": self.tags,
            "files": self.files, "written": len(self.written), "unchanged": self.unchanged,
            "deleted": len(self.deleted), "written_files": list(self.written), "deleted_files": list(self.deleted),
        }


def build_archive(conn: sqlite3.Connection, settings: Settings, out_dir: str | Path, now: datetime, *,
                  templates: ArchiveTemplates, previews: Iterable[date] = ()) -> ArchiveReport:
    """Build (or bring up to date) the static archive in `out_dir`: the sent issues, plus the
    issues dated `previews` whatever their state, each marked as a preview.

    `now` dates the feed only when no issue has been sent yet."""
    out_dir = Path(out_dir).resolve()
    issues = gather(conn, settings, previews)
    site = Site(settings, issues, templates, now)
    with _locked(out_dir):
        manifest = _read_manifest(out_dir)
        outputs = site.outputs()
        _remember_new_paths(out_dir, manifest, outputs)
        written, unchanged, entries = [], 0, {}
        for output in outputs:
            entry, wrote = _bring_up_to_date(out_dir, output, manifest.get(output.path))
            entries[output.path] = entry
            if wrote:
                written.append(output.path)
            else:
                unchanged += 1
        deleted = _delete_stale(out_dir, set(manifest) - set(entries))
        _write_manifest(out_dir, entries)
    return ArchiveReport(out_dir=out_dir, issues=tuple(a.issue.issue_date for a in issues),
                         previews=tuple(a.issue.issue_date for a in issues if a.preview), tags=len(site.tagged),
                         files=len(entries), written=tuple(written), unchanged=unchanged, deleted=tuple(deleted))


def _bring_up_to_date(out_dir: Path, output: Output, known: dict | None) -> tuple[dict, bool]:
    """(manifest entry, whether the file was written)."""
    target = out_dir / output.path
    on_disk = target.stat().st_size if target.is_file() else None
    fresh = known and known.get("sha256") and on_disk == known.get("bytes")
    if fresh and output.inputs is not None and known.get("inputs") == output.inputs:
        return known, False  # made from the same things as last time: not even rendered
    body = output.render()
    digest = hashlib.sha256(body).hexdigest()
    entry = {"sha256": digest, "bytes": len(body), "inputs": output.inputs}
    if fresh and known["sha256"] == digest:
        return entry, False
    if not known and on_disk == len(body) and _file_digest(target) == digest:
        return entry, False  # the manifest was lost, the file is right
    _write_atomically(target, body)
    return entry, True


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_atomically(target: Path, body: bytes) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(body)
        os.replace(temporary, target)
    except OSError as e:
        temporary.unlink(missing_ok=True)
        raise ArchiveError(f"cannot write: {e.strerror or e}", path=target) from e


def _delete_stale(out_dir: Path, stale: set[str]) -> list[str]:
    deleted = []
    for relative in sorted(stale):
        target = out_dir / relative
        try:
            target.unlink(missing_ok=True)
        except OSError as e:
            raise ArchiveError(f"cannot delete: {e.strerror or e}", path=target) from e
        deleted.append(relative)
        parent = target.parent  # drop directories left empty (issues/2024-07-19/)
        while parent != out_dir and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return deleted


def _read_manifest(out_dir: Path) -> dict[str, dict]:
    path = out_dir / MANIFEST
    if not path.exists():
        others = [p.name for p in out_dir.iterdir() if p.name != LOCK]
        if others:
            raise ArchiveError(f"holds other files ({', '.join(sorted(others)[:3])}, ...) and no {MANIFEST}; "
                               "build the archive into an empty directory or one it built before", path=out_dir)
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        files = document["files"] if document.get("format") == MANIFEST_FORMAT else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        files = {}  # unreadable: every file is checked against its bytes on disk instead
    return {p: entry for p, entry in files.items() if isinstance(entry, dict) and _inside(p)}


def _inside(relative: str) -> bool:
    """A manifest path this build may write or delete: relative, no '..'."""
    parts = Path(relative).parts
    return bool(parts) and not Path(relative).is_absolute() and ".." not in parts


def _remember_new_paths(out_dir: Path, manifest: dict[str, dict], outputs: list[Output]) -> None:
    """List files about to be created before creating them, so a build that dies halfway
    leaves nothing the next build does not know to clean up."""
    new = {output.path: {"sha256": None} for output in outputs if output.path not in manifest}
    if new:
        _write_manifest(out_dir, {**manifest, **new})


def _write_manifest(out_dir: Path, entries: dict[str, dict]) -> None:
    document = {"format": MANIFEST_FORMAT, "files": dict(sorted(entries.items()))}
    _write_atomically(out_dir / MANIFEST, json.dumps(document, ensure_ascii=False, indent=0).encode("utf-8"))


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = open(out_dir / LOCK, "w")
    except OSError as e:
        raise ArchiveError(f"cannot use as the archive directory: {e.strerror or e}", path=out_dir) from e
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits for a build already running here
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
