"""`newsletter backup FILE`: a consistent copy of the SQLite file taken with the online backup
API while another connection keeps writing, which restores to a working database."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from dataclasses import replace
from datetime import timedelta

from newsletter.collect import feeds
from newsletter.store import connect, transaction
from newsletter.store import items as item_store
from support.apps import app_for
from support.cli import newsletter
from support.clock import NOW
from support.fixtures import fixture_bytes

OPENAI_FEED = "feeds/openai-news-rss-2025-07-28.xml"


def stored_database(tmp_path):
    """A real database: the OpenAI feed's entries, parsed and stored."""
    db = tmp_path / "newsletter.db"
    entries = feeds.parse_feed(fixture_bytes(OPENAI_FEED), source_id="openai",
                               base_url="https://openai.com/news/rss.xml", now=NOW).entries
    conn = connect(db)
    with transaction(conn):
        item_store.upsert_entries(conn, "openai", entries, NOW)
    conn.close()
    return db, entries


class Writer(threading.Thread):
    """Keeps writing, as the app does: each transaction stores one new item with a Korean
    title and gives it two tags, so a copy caught halfway through one would show it."""

    def __init__(self, db, template):
        super().__init__(daemon=True)
        self.db, self.template = db, template
        self.written = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        conn = connect(self.db)
        try:
            while not self.stop.is_set():
                n = self.written
                url = f"https://backup.test/{n}"
                entry = replace(self.template, key=url, url=url, title=f"백업 중에 쓴 항목 {n}",
                                published=NOW + timedelta(seconds=n))
                with transaction(conn):
                    item_store.upsert_entries(conn, "openai", [entry], NOW)
                    item_id = item_store.get_item_by_key(conn, url).id
                    item_store.annotate(conn, item_id, NOW, commentary="백업 도중의 쓰기", tags=["백업", f"n{n}"])
                self.written += 1
        except BaseException as e:  # reported by the test
            self.error = e
        finally:
            conn.close()


def test_a_backup_taken_while_the_app_writes_restores_to_a_consistent_database(tmp_path):
    db, entries = stored_database(tmp_path)
    writer = Writer(db, entries[0])
    writer.start()
    try:
        while writer.written < 20:  # writing is under way
            writer.stop.wait(0.01)
        before = writer.written
        run = newsletter(tmp_path, "--db", str(db), "backup", str(tmp_path / "copy.db"), "--json")
        during = writer.written
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None, writer.error
    assert run.returncode == 0, run.stderr
    assert during > before  # the writer was not held up by the backup
    report = json.loads(run.stdout)
    assert report["backup"] == str(tmp_path / "copy.db") and report["bytes"] == (tmp_path / "copy.db").stat().st_size
    source = sqlite3.connect(db)
    assert report["schema_version"] == source.execute("PRAGMA user_version").fetchone()[0] > 0
    source.close()
    assert not (tmp_path / "copy.db-wal").exists()  # one self-contained file

    # restore: the copy in the database's place, opened by the app as usual
    restored = tmp_path / "restored" / "newsletter.db"
    restored.parent.mkdir()
    shutil.copyfile(tmp_path / "copy.db", restored)
    conn = sqlite3.connect(restored)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    written = [row[0] for row in conn.execute("SELECT id FROM items WHERE key LIKE 'https://backup.test/%'")]
    assert len(written) > 0 and before <= len(written) <= writer.written  # a moment during the run
    tag_counts = {count for (count,) in conn.execute(
        "SELECT COUNT(item_tags.tag) FROM items LEFT JOIN item_tags ON item_tags.item_id = items.id "
        "WHERE items.key LIKE 'https://backup.test/%' GROUP BY items.id")}
    assert tag_counts == {2}  # every write whole, none half
    conn.close()
    app = app_for(restored.parent, None, db=restored.name, environ={})  # a config with no sources
    try:
        stored = item_store.list_items(app.conn, source_id="openai")
        assert len(stored) == len(entries) + len(written)
        assert any(item.title == "백업 중에 쓴 항목 0" and item.tags == ("백업", "n0") for item in stored)
    finally:
        app.close()


def test_a_backup_replaces_the_old_one_and_refuses_what_would_lose_data(tmp_path):
    db, entries = stored_database(tmp_path)
    target = tmp_path / "backups" / "newsletter.db"
    run = newsletter(tmp_path, "--db", str(db), "backup", str(target))
    assert run.returncode == 1 and "the directory" in run.stderr and "does not exist" in run.stderr
    target.parent.mkdir()
    assert newsletter(tmp_path, "--db", str(db), "backup", str(target)).returncode == 0
    conn = connect(db)
    with transaction(conn):
        item_store.upsert_entries(conn, "openai", [replace(entries[0], key="https://backup.test/late",
                                                            url="https://backup.test/late", title="늦은 항목")], NOW)
    conn.close()
    run = newsletter(tmp_path, "--db", str(db), "backup", str(target))
    assert run.returncode == 0 and "backed up" in run.stderr
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT title FROM items WHERE key = 'https://backup.test/late'").fetchone() == ("늦은 항목",)
    copy.close()
    assert [p.name for p in target.parent.iterdir()] == ["newsletter.db"]  # no temporary file left

    run = newsletter(tmp_path, "--db", str(db), "backup", str(db))
    assert run.returncode == 1 and "onto itself" in run.stderr
    missing = tmp_path / "nowhere.db"
    run = newsletter(tmp_path, "--db", str(missing), "backup", str(tmp_path / "x.db"))
    assert run.returncode == 1 and "there is no database there" in run.stderr
    assert not missing.exists() and not (tmp_path / "x.db").exists()  # nothing created
