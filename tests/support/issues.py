"""Issues made as a curator makes them, for the render, issue and archive tests: the real
fixtures collected through the loopback server, items approved with Korean commentary and tags,
issues built for several dates and taken ready -> sending -> sent."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from newsletter.flows import compose
from newsletter.model import IssueStatus
from newsletter.store import issues as issue_store
from newsletter.store import transaction

from support.apps import app_for, item_id
from support.clock import ticking_clock
from support.fixtures import serve_fixtures

HOSTILE_TITLE = ("Breaking\r\nBcc: victim@example.com\r\n\r\n<script>alert('t')</script> "
                 "<img src=x onerror=alert(1)> " + "ㅋ" * 20 + "A" * 400)
HOSTILE_SUBJECT = "특집 <script>alert(1)</script> & \"따옴표\""

# The curator's picks, in the order approved: mixed sections on purpose.
PICKS = (
    ("x:1577730467436138524", "", 0, "GIF와 영상을 한 게시물에 섞을 수 있게 된 변화", "x, 소셜"),
    ("arxiv:2407.13623", "", 0, "연산량에 따라 최적의 어휘 크기가 달라진다는 스케일링 법칙", "scaling-law, 토크나이저"),
    ("", "openai", 0, "보안 위협 대응을 백 배 빠르게 만든 에이전트 사례", "openai, 에이전트"),
    ("", "deepmind", 0, "역사학자를 돕는 모델이 비문을 복원하는 방식", "deepmind, 고고학"),
    ("arxiv:2407.13647", "", 0, "약한 감독자로 강한 모델의 추론을 끌어내는 방법", "추론, weak-to-strong"),
)
# issue date -> the curator's picks that go into it
ISSUES = {
    date(2024, 7, 17): PICKS[:2],  # an X post (#x #소셜); the vocabulary paper (#scaling-law #토크나이저)
    date(2024, 7, 18): PICKS[2:4],  # OpenAI (#openai #에이전트); DeepMind: "비문을 복원하는" (#deepmind #고고학)
    date(2024, 7, 19): PICKS[4:],  # Weak-to-Strong Reasoning (#추론 #weak-to-strong)
}
TOKENIZER = "토크나이저"
TOKENIZER_DIR = "%ED%86%A0%ED%81%AC%EB%82%98%EC%9D%B4%EC%A0%80"


def collected_app(directory: Path, server, *, render: dict | None = None, newsletter: dict | None = None):
    """An app on a real SQLite file holding everything the fixtures give, collected for real."""
    app = app_for(directory, "render", clock=ticking_clock(), sources=serve_fixtures(server), render=render,
                  newsletter=newsletter)
    # in a thread of its own: Playwright's sync API keeps an event loop running in this one
    with ThreadPoolExecutor(1) as thread:
        report = thread.submit(asyncio.run, app.collect()).result()
    assert {r.status.value for r in report.results} == {"ok"}, report.as_json()
    return app


def approve_picks(app, picks=PICKS) -> list[int]:
    ids = []
    for key, source, nth, sentence, tags in picks:
        found = item_id(app, key, source=source, nth=nth)
        commentary = f"{sentence}. 핵심은 **{tags.split(',')[0]}** 입니다. [원문 보기](https://example.org/read/{found})"
        compose.approve_item(app.conn, found, app.clock(), commentary=commentary, tags=tags)
        ids.append(found)
    return ids


def publish(app, issue_date: date, picks, *, subject: str | None = None, note: str | None = None):
    """Approve `picks`, build the issue of `issue_date` from them and take it to sent."""
    approve_picks(app, picks)
    issue = compose.build_issue(app.settings, app.conn, app.clock(), issue_date).issue
    if subject or note:
        issue = compose.edit_issue(app.conn, issue, app.clock(), subject=subject, note=note)
    issue = compose.mark_ready(app.settings, app.conn, issue, app.clock(), app.email)
    with transaction(app.conn):
        issue_store.set_status(app.conn, issue.id, IssueStatus.SENDING, app.clock())
        return issue_store.set_status(app.conn, issue.id, IssueStatus.SENT, app.clock())


def archive_app(directory: Path, server, *, site_url: str | None = None):
    """An app holding three sent issues (17-19 July 2024); the 18th has a hostile subject
    and an editor's note."""
    app = collected_app(directory, server, newsletter={"site_url": site_url} if site_url else None)
    for issue_date, picks in ISSUES.items():
        extra = {"subject": HOSTILE_SUBJECT, "note": "이번 호는 **에이전트** 특집입니다."} \
            if issue_date == date(2024, 7, 18) else {}
        publish(app, issue_date, picks, **extra)
    return app
