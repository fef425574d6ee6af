"""The runs page, the archive inside the app and forwarded headers under `serve`'s uvicorn
configuration: the real app under uvicorn on loopback, driven with httpx and Chromium."""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta

import httpx

from newsletter.model import IssueStatus
from newsletter.store import issues, transaction
from newsletter.store import connect
from newsletter.store import sources as source_store
from newsletter.store import users as user_store
from newsletter.web.runs import with_scheduler
from support.apps import add_active, add_curator, app_for, readers, ready_issue
from support.browser import browser_login
from support.clock import EIGHT_SEOUL, MORNING, Clock
from support.server import AppServer
from support.smtp import SmtpSink
from support.web import login

ISSUE_DAY = date(2024, 7, 19)


def sent_issue(app, day: date = ISSUE_DAY):
    issue = ready_issue(app.conn, day, MORNING)
    with transaction(app.conn):
        issues.set_status(app.conn, issue.id, IssueStatus.SENDING, MORNING)
        return issues.set_status(app.conn, issue.id, IssueStatus.SENT, MORNING)


def test_the_runs_page_needs_a_curator_and_shows_next_runs_last_runs_and_alerts(editor):
    ed = editor()
    app = ed.app
    with transaction(app.conn):  # openai last worked yesterday morning and has failed since
        source_store.record_success(app.conn, "openai", "feed", MORNING - timedelta(hours=30), new_items=3,
                                    etag=None, last_modified=None)
        source_store.record_failure(app.conn, "openai", "feed", MORNING - timedelta(hours=1),
                                    "openai: HTTP 503 서비스 점검 중")
    app.jobs.send(ISSUE_DAY)  # nothing built: skipped, and no SMTP to tell the curator
    app.jobs.check_alerts()  # the alert is kept; its mail could not go either

    with ed.client() as anonymous:
        answer = anonymous.get("/runs")
        assert answer.status_code == 303 and answer.headers["location"] == "/login?next=%2Fruns"
    with ed.client() as client:
        login(client)
        page = client.get("/runs")
    assert page.status_code == 200
    text = page.text
    assert '<a href="/runs">작업 기록</a>' in text
    # no scheduler in this process (the test server has none): the times come from the config,
    # read in Seoul from the app's clock, 09:30 on Friday 19 July 2024
    assert "스케줄러가 이 서버에서 실행되지 않습니다" in text
    rows = dict(re.findall(r'<tr data-job="(\w+)">(.*?)</tr>', text, re.S))
    assert "2024-07-19 (금) 10:00" in rows["collect"] and "2024-07-20 (토) 08:00" in rows["send"]
    assert "after each send" in rows["archive"]
    send_row = re.search(r'<tr class="outcome-skipped" data-job="send" data-outcome="skipped">(.*?)</tr>', text, re.S)[1]
    assert '건너뜀: <span class="reason">not ready</span>' in send_row and "예약 작업" in send_row
    assert "curator not told: ConfigError" in send_row
    alert = re.search(r'<li class="alert failing" data-source="openai">(.*?)</li>', text, re.S)[1]
    assert "하루 넘게 실패" in alert and "HTTP 503 서비스 점검 중" in alert and "메일을 보내지 못함" in alert
    failing = re.search(r'<tr class="failing" data-source="openai">(.*?)</tr>', text, re.S)[1]
    assert "HTTP 503 서비스 점검 중" in failing and "2024-07-18 (목) 03:30" in failing  # last success, Seoul time


def test_the_archive_is_public_at_slash_archive_and_the_emails_web_link_leads_there(editor):
    ed = editor()
    with ed.client() as client:
        before = client.get("/archive/")
        assert before.status_code == 404 and "newsletter archive build" in before.text

        sent_issue(ed.app)
        ed.app.build_archive()

        link = client.get("/issues/2024-07-19/")  # site_url + /issues/YYYY-MM-DD/, as the email links it
        assert link.status_code == 302 and link.headers["location"] == "/archive/issues/2024-07-19/index.html"
        assert client.get("/issues/2024-07-19").headers["location"] == "/archive/issues/2024-07-19/index.html"
        page = client.get(link.headers["location"])
        assert page.status_code == 200 and "Scaling Laws with Vocabulary" in page.text
        relatives = re.findall(r'(?:href|src)="(\.\./[^"#?]+)"', page.text)
        assert len(relatives) >= 3  # the stylesheet, the index, the tags...
        for relative in relatives:  # ...all resolve inside /archive
            target = httpx.URL(f"{ed.url}/archive/issues/2024-07-19/").join(relative)
            assert client.get(target).status_code == 200, relative
        index = client.get("/archive/")
        assert index.status_code == 200 and 'href="issues/2024-07-19/' in index.text
        assert client.get("/issues/2024-13-40/").status_code == 404
        assert client.get("/issues/20240719/").status_code == 404


def test_the_archive_builds_own_files_are_not_served(editor):
    ed = editor()
    sent_issue(ed.app)
    ed.app.build_archive()
    assert (ed.app.archive_dir / ".archive-manifest.json").is_file()  # it is there, on disk...
    with ed.client() as client:
        for path in ("/archive/.archive-manifest.json", "/archive/%2Earchive-manifest.json", "/archive/.archive.lock",
                     "/archive/issues/../.archive-manifest.json"):
            answer = client.get(path)  # ...but the public gets no list of every file, previews included
            assert answer.status_code == 404 and "sha256" not in answer.text, path
        assert client.get("/archive/index.html").status_code == 200


def test_the_runs_page_is_in_the_editors_nav(editor, browser):
    ed = editor()
    ed.app.jobs.send(ISSUE_DAY)
    page = browser.new_page()
    try:
        browser_login(page, ed.url)
        page.click("nav >> text=작업 기록")
        page.wait_for_url("**/runs")
        assert page.locator("h1").inner_text() == "작업 기록"
        assert page.locator('tr[data-job="send"][data-outcome="skipped"] .reason').inner_text() == "not ready"
        assert page.locator('tr[data-job="send"] .next-run time').inner_text() == "2024-07-20 (토) 08:00"
    finally:
        page.close()


# --- `serve`'s uvicorn configuration behind a reverse proxy --------------------------------------

def cookie_flags(response: httpx.Response, name: str) -> list[str]:
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(name + "="))
    return [part.strip().lower() for part in cookie.split(";")]


def test_https_at_the_proxy_gets_secure_cookies_and_only_the_proxy_is_believed(editor):
    ed = editor()
    proxy_headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    with AppServer(ed.app, like_serve=True) as served:
        with served.client(headers=proxy_headers) as through_proxy:  # the proxy on this machine
            assert "secure" in cookie_flags(through_proxy.get("/login"), "nl_login")
        with served.client() as local:  # plain http on loopback, no proxy: a Secure cookie would never return
            assert "secure" not in cookie_flags(local.get("/login"), "nl_login")
        # Another address on this machine is not the proxy: its forwarded headers are ignored,
        # so its plain-http request is seen as what it is.
        with served.client(from_address="127.0.0.2", headers=proxy_headers) as stranger:
            assert "secure" not in cookie_flags(stranger.get("/login"), "nl_login")
    with AppServer(ed.app, like_serve=True, forwarded_allow_ips="127.0.0.2") as served:  # --forwarded-allow-ips
        with served.client(from_address="127.0.0.2", headers=proxy_headers) as proxy_elsewhere:
            assert "secure" in cookie_flags(proxy_elsewhere.get("/login"), "nl_login")


def test_a_scheduled_send_runs_off_the_event_loop_while_the_runs_page_answers(tmp_path):
    clock = Clock(EIGHT_SEOUL + timedelta(minutes=10))  # started at 08:10: the 08:00 send is caught up
    with SmtpSink() as sink:
        app = app_for(tmp_path, "ops", sink, clock=clock)
        add_active(app, readers(5), EIGHT_SEOUL)
        ready_issue(app.conn, ISSUE_DAY, EIGHT_SEOUL)
        add_curator(app)
        with transaction(app.conn):
            token = user_store.create_token(app.conn, "지수", clock())
        release = threading.Event()
        sink.on_accept = lambda received: release.wait(30)  # the relay holds the first message
        watcher = connect(app.db_path)
        try:
            with AppServer(app, like_serve=True, lifespan=with_scheduler(app)) as served, \
                    served.client(headers={"Authorization": f"Bearer {token}"}) as client:
                for _ in range(400):  # the send has begun: its run is open, its first message held
                    if watcher.execute("SELECT count(*) FROM runs WHERE job = 'send' AND finished IS NULL").fetchone()[0]:
                        break
                    time.sleep(0.05)
                during = client.get("/runs")  # answered while the send waits on the relay
                assert during.status_code == 200 and "스케줄러가 이 서버에서 실행 중입니다" in during.text
                assert re.search(r'data-job="send" data-outcome="">.*?진행 중이거나 중단됨', during.text, re.S)
                assert sink.count <= 1  # nothing past the held message
                release.set()
                for _ in range(400):
                    if watcher.execute("SELECT count(*) FROM runs WHERE job = 'send' AND outcome = 'ok'").fetchone()[0]:
                        break
                    time.sleep(0.05)
                after = client.get("/runs")
                assert re.search(r'data-job="send" data-outcome="ok">.*?보냄 5, 실패 0, 대기 0', after.text, re.S)
        finally:
            release.set()
            watcher.close()
        assert sorted(r.rcpt_tos[0] for r in sink.received) == readers(5)
        app.close()
