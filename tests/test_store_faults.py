"""The database failing under a command: a write refused in one source's transaction, a send
stopped by the store or by the SMTP server, a damaged or emptied file. Each is a clear
message naming what failed, the run is finished and recorded, and what was committed stays.

The refused writes are real SQLite errors raised inside SQLite (a trigger's RAISE with the
text SQLite gives for a full disk): disk-full itself cannot be aimed at one source."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone

from newsletter.store import connect
from support.apps import app_for, ready_issue
from support.cli import cli_runner, newsletter
from support.config import write_config
from support.fixtures import serve_fixtures
from support.smtp import SmtpSink
from support.web import login

send = cli_runner("mail")
FULL = "database or disk is full"


def refuse_writes(db, table: str, when: str) -> None:
    conn = connect(db)
    conn.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN {when} "
                 f"BEGIN SELECT RAISE(ABORT, '{FULL}'); END")
    conn.close()


def test_a_store_error_in_one_sources_transaction_is_that_sources_failure(tmp_path, server):
    write_config(tmp_path / "sources.yaml", "collect", sources=serve_fixtures(server)[:3])
    connect(tmp_path / "cli.db").close()
    refuse_writes(tmp_path / "cli.db", "items", "NEW.source_id = 'deepmind'")

    run = newsletter(tmp_path, "collect", "--json")
    assert run.returncode == 0, run.stderr  # not every source failed
    assert "Traceback" not in run.stderr
    results = {r["id"]: r for r in json.loads(run.stdout)["sources"]}
    assert results["deepmind"]["status"] == "error"
    assert "could not store" in results["deepmind"]["error"] and FULL in results["deepmind"]["error"]
    assert results["openai"]["status"] == results["arxiv-cl"]["status"] == "ok" and results["openai"]["new"] > 0

    health = {s["id"]: s for s in json.loads(newsletter(tmp_path, "sources", "--json").stdout)}
    assert FULL in health["deepmind"]["last_error"]
    runs = json.loads(newsletter(tmp_path, "runs", "--json").stdout)["runs"]
    assert runs[0]["job"] == "collect" and runs[0]["outcome"] == "partial" and runs[0]["finished"]
    conn = connect(tmp_path / "cli.db")
    assert conn.execute("SELECT count(*) FROM items WHERE source_id = 'deepmind'").fetchone()[0] == 0
    conn.close()


def test_a_send_stopped_by_the_store_or_the_server_says_where_it_stands_in_json(tmp_path):
    now = datetime.now(timezone.utc)
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink)
        ready_issue(app.conn, now.astimezone(app.settings.newsletter.zone).date(), now)
        app.close()
        send(tmp_path, "subscribers", "add", "kim@example.com", "lee@staging.test", "park@example.com")

        # the server goes away: no answer at all on its port
        gone = send(tmp_path, "send", "--json", "--force-late", env={"NEWSLETTER_SMTP_URL": "smtp://127.0.0.1:9"})
        assert gone.returncode == 1 and "Traceback" not in gone.stderr
        standing = json.loads(gone.stdout)
        assert (standing["sent"], standing["pending"]) == (0, 3) and standing["error"]

        # the store refuses to record the outcomes: the send stops, the rows stay pending
        conn = connect(tmp_path / "mail.db")
        conn.execute("CREATE TRIGGER refuse_sent BEFORE UPDATE ON deliveries WHEN NEW.status = 'sent' "
                     f"BEGIN SELECT RAISE(ABORT, '{FULL}'); END")
        conn.close()
        stopped = send(tmp_path, "send", "--json", "--force-late", sink=sink)
        assert stopped.returncode == 1 and "Traceback" not in stopped.stderr
        assert FULL in stopped.stderr and "running the command again resumes" in stopped.stderr
        assert FULL in json.loads(stopped.stdout)["error"]

        conn = connect(tmp_path / "mail.db")
        conn.execute("DROP TRIGGER refuse_sent")
        conn.close()
        resumed = send(tmp_path, "send", "--json", "--force-late", sink=sink)
        assert resumed.returncode == 0, resumed.stderr
        report = json.loads(resumed.stdout)
        assert (report["sent"], report["pending"], report["status"]) == (3, 0, "sent")
        # a .test address is a recipient like any other (a staging setup's own inbox)
        assert sink.to("lee@staging.test")
        # the one whose message went out before its row could say so may have it twice
        # (the documented crash bound); nobody is left without it
        assert all(1 <= len(sink.to(a)) <= 2 for a in ("kim@example.com", "lee@staging.test", "park@example.com"))


def test_a_damaged_or_emptied_database_is_named_not_silently_replaced(tmp_path, server):
    write_config(tmp_path / "sources.yaml", "collect", sources=serve_fixtures(server)[:1])
    assert newsletter(tmp_path, "collect").returncode == 0
    db = tmp_path / "cli.db"
    conn = connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    middle = page_size * (pages // 2)
    data[middle:middle + page_size] = b"\xff" * page_size  # one page of the items' b-tree overwritten
    db.write_bytes(bytes(data))

    run = newsletter(tmp_path, "items", "--limit", "5")
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"the database {db} is damaged" in run.stderr and "restore a backup" in run.stderr

    db.write_bytes(b"")  # a crash, a bad copy: the file is there and empty
    run = newsletter(tmp_path, "items")
    assert run.returncode == 1 and "an empty file, 0 bytes" in run.stderr and "restore a backup" in run.stderr
    assert db.stat().st_size == 0  # not made into a new, empty database


def test_the_editor_names_a_database_damaged_while_it_runs(editor):
    ed = editor()
    with ed.client() as client:
        login(client)
        assert client.get("/queue").status_code == 200
        damage = sqlite3.connect(ed.db_path)  # the items table now points past the end of the file
        damage.execute("PRAGMA writable_schema = ON")
        version = damage.execute("PRAGMA schema_version").fetchone()[0]
        damage.execute("UPDATE sqlite_schema SET rootpage = 999999 WHERE name = 'items'")
        damage.execute(f"PRAGMA schema_version = {version + 1}")
        damage.commit()
        damage.close()
        page = client.get("/queue")
        assert page.status_code == 500 and "데이터베이스가 손상되었습니다" in page.text
        assert str(ed.db_path) in page.text and "restore a backup" in page.text
        api = client.get("/api/items")
        assert api.status_code == 500 and "is damaged" in api.json()["error"]
