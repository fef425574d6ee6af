"""`newsletter subscribers ...` and `newsletter send ...` run as a user runs them: a subprocess, a
real SQLite file, the real renderer, a real SMTP server on loopback."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from newsletter.model import IssueStatus
from newsletter.store import connect, issues
from support.apps import app_for, ready_issue
from support.cli import cli_runner
from support.smtp import SmtpSink

newsletter = cli_runner("mail")


def test_subscribers_commands_end_to_end(tmp_path):
    with SmtpSink() as sink:
        app_for(tmp_path, "mail").close()  # config and database
        run = newsletter(tmp_path, "subscribers", "add", "Kim@Example.com", "lee@한국.kr", "--json")
        assert run.returncode == 0, run.stderr
        assert [r["outcome"] for r in json.loads(run.stdout)] == ["added", "added"]

        run = newsletter(tmp_path, "subscribers", "add", "--pending", "park@example.com", sink=sink)
        assert run.returncode == 0 and run.stdout == "" and "invited park@example.com" in run.stderr
        assert [r.rcpt_tos for r in sink.received] == [("park@example.com",)]

        (tmp_path / "list.csv").write_bytes("이메일,이름\nchoi@example.com,최\nKIM@example.com,김\nbad,x\n"
                                            .encode("cp949"))
        run = newsletter(tmp_path, "subscribers", "import", "list.csv", "--dry-run", "--json")
        preview = json.loads(run.stdout)["preview"]
        assert (preview["new"], preview["exists"], preview["invalid"]) == (1, 1, 1)
        assert json.loads(run.stdout)["results"] == []
        run = newsletter(tmp_path, "subscribers", "import", "list.csv")
        assert run.returncode == 0 and "1 added" in run.stderr and run.stdout == ""

        run = newsletter(tmp_path, "subscribers", "remove", "kim@example.com", "nobody@example.com")
        assert run.returncode == 1 and "removed kim@example.com" in run.stderr and "not_found" in run.stderr

        run = newsletter(tmp_path, "subscribers", "list", "--json")
        listing = json.loads(run.stdout)
        assert listing["counts"] == {"pending": 1, "active": 2, "unsubscribed": 1, "bounced": 0}
        assert {s["email"]: s["status"] for s in listing["subscribers"]} == {
            "kim@example.com": "unsubscribed", "lee@한국.kr": "active", "park@example.com": "pending",
            "choi@example.com": "active"}
        run = newsletter(tmp_path, "subscribers", "list", "--status", "active", "--search", "한국", "--json")
        assert [s["email"] for s in json.loads(run.stdout)["subscribers"]] == ["lee@한국.kr"]
        run = newsletter(tmp_path, "subscribers", "list")
        assert "lee@한국.kr" in run.stdout

        run = newsletter(tmp_path, "subscribers", "export")
        rows = list(csv.DictReader(io.StringIO(run.stdout)))
        assert {r["email"]: r["how"] for r in rows} == {"kim@example.com": "cli", "lee@한국.kr": "cli",
                                                         "park@example.com": "cli", "choi@example.com": "import"}
        newsletter(tmp_path, "subscribers", "export", "-o", "out.csv")
        assert (tmp_path / "out.csv").read_bytes().startswith("\ufeffemail,".encode())  # Excel reads Hangul

        run = newsletter(tmp_path, "subscribers", "add", "not-an-address")
        assert run.returncode == 1 and "invalid" in run.stderr


def test_send_dry_run_test_and_real_send_with_the_real_renderer(tmp_path):
    now = datetime.now(timezone.utc)
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink)
        today = now.astimezone(app.settings.newsletter.zone).date()
        issue = ready_issue(app.conn, today, now)
        app.close()
        newsletter(tmp_path, "subscribers", "add", "kim@example.com", "lee@example.com")

        run = newsletter(tmp_path, "send", "--dry-run", "--json", "--force-late")
        plan = json.loads(run.stdout)
        assert run.returncode == 0, run.stderr
        assert (plan["would_send"], plan["status"], plan["refused"]) == (2, "ready", None)
        assert sink.count == 0

        run = newsletter(tmp_path, "send", "--test-to", "curator@example.com", "--json", sink=sink)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["reply"].startswith("250")
        assert [r.rcpt_tos for r in sink.received] == [("curator@example.com",)]

        run = newsletter(tmp_path, "send", "--date", today.isoformat(), "--json", "--force-late", sink=sink)
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert (report["sent"], report["failed"], report["pending"], report["status"]) == (2, 0, 0, "sent")
        assert "is sent: 2 sent" in run.stderr
        for address in ("kim@example.com", "lee@example.com"):
            (received,) = sink.to(address)
            message = received.message
            html = message.get_body(("html",)).get_content()
            url = message["List-Unsubscribe"].strip()[1:-1]
            assert url.startswith("https://news.example.com/unsubscribe/") and url in html
            assert "Scaling Laws with Vocabulary" in html and 'lang="ko"' in html
        conn = connect(tmp_path / "mail.db")
        assert issues.get_issue(conn, issue.id).status is IssueStatus.SENT
        conn.close()

        run = newsletter(tmp_path, "send", "--date", today.isoformat(), "--force-late", sink=sink)
        assert run.returncode == 1 and "already sent" in run.stderr and sink.count == 3


def test_send_without_smtp_settings_says_so(tmp_path):
    now = datetime.now(timezone.utc)
    app = app_for(tmp_path, "mail")
    ready_issue(app.conn, now.astimezone(app.settings.newsletter.zone).date(), now)
    app.close()
    newsletter(tmp_path, "subscribers", "add", "kim@example.com")
    run = newsletter(tmp_path, "send", "--force-late")
    assert run.returncode == 2 and "NEWSLETTER_SMTP_URL is not set" in run.stderr
    conn = connect(tmp_path / "mail.db")
    assert conn.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0  # nothing started
    assert conn.execute("SELECT status FROM issues").fetchone()[0] == "ready"
    conn.close()
