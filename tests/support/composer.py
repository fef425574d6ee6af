"""The composer's picks for the editor-driven tests: real fixture items approved with Korean
commentary (as `newsletter approve` does), today's issue built or made ready, subscribers to
send it to, and a slow SMTP server."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from newsletter.flows import compose
from newsletter.flows.roster import add_addresses
from newsletter.store import items as item_store

ISSUE_DATE = "2024-07-19"  # MORNING is 09:30 in Seoul on this day
# (source, nth newest, Korean commentary, tags): the curator's picks, in the order approved
PICKS = (
    ("openai", 0, "보안 위협 대응을 백 배 빠르게 만든 에이전트 사례. **핵심**은 자동화입니다.", "openai, 에이전트"),
    ("openai", 2, "개발자 행사 일정이 나왔습니다. 새 API 발표가 예상됩니다.", "openai, 행사"),
    ("deepmind", 0, "역사학자를 돕는 모델이 비문을 복원하는 방식.", "deepmind, 고고학"),
    ("arxiv-ai", 0, "연산량에 따라 최적의 어휘 크기가 달라진다는 스케일링 법칙.", "scaling-law, 토크나이저"),
    ("arxiv-ai", 1, "약한 감독자로 강한 모델의 추론을 끌어내는 방법.", "추론, weak-to-strong"),
)


@dataclass(frozen=True)
class Picked:
    ids: list[int]  # in approval order: three lab posts, then two papers
    titles: dict[int, str]

    def title(self, n: int) -> str:
        return self.titles[self.ids[n]]


def approve_picks(ed) -> Picked:
    """Approve real fixture items with Korean commentary and tags, as `newsletter approve` does."""
    ids, titles = [], {}
    for source, nth, commentary, tags in PICKS:
        item = item_store.list_items(ed.app.conn, source_id=source)[nth]
        compose.approve_item(ed.app.conn, item.id, ed.clock(), commentary=commentary, tags=tags)
        ids.append(item.id)
        titles[item.id] = item.display_title
    return Picked(ids, titles)


def build_now(ed):
    return compose.build_issue(ed.app.settings, ed.app.conn, ed.clock()).issue


def stored_issue(ed) -> tuple:
    """The issue as another process reads it: state, overrides and items in order."""
    with ed.reader() as conn:
        row = conn.execute("SELECT status, subject, preheader, note FROM issues WHERE issue_date = ?",
                           (ISSUE_DATE,)).fetchone()
        if row is None:
            return ()
        items = [r[0] for r in conn.execute(
            "SELECT item_id FROM issue_items JOIN issues ON issues.id = issue_id WHERE issue_date = ? "
            "ORDER BY position", (ISSUE_DATE,))]
        return (*tuple(row), items)


ACTIVE = ["minji@example.com", "seojun@한국.kr", "haneul@example.com", "yuna@example.com", "daeun@example.com",
          "gone@example.com"]  # the last one's mailbox does not exist (550 5.1.1)
ACTIVE_ON_THE_WIRE = ["minji@example.com", "seojun@xn--3e0b707e.kr", "haneul@example.com", "yuna@example.com",
                      "daeun@example.com"]


def ready(ed):
    """The picks approved with Korean commentary, today's issue built and marked ready."""
    approve_picks(ed)
    issue = build_now(ed)
    return compose.mark_ready(ed.app.settings, ed.app.conn, issue, ed.clock(), ed.app.email)


def with_readers(ed) -> None:
    """Six active subscribers, one pending and one who unsubscribed: six rows to send."""
    add_addresses(ed.app.subscriptions, ACTIVE + ["left@example.com"], ed.clock(), how="cli")
    ed.app.conn.execute("UPDATE subscribers SET status = 'unsubscribed', how = 'page' WHERE email = 'left@example.com'")
    ed.app.conn.execute("INSERT INTO subscribers (email, email_ascii, status, created, changed, how) VALUES "
                        "('waiting@example.com', 'waiting@example.com', 'pending', '2024-07-18T00:00:00Z', "
                        "'2024-07-18T00:00:00Z', 'form')")


def gate(sink) -> threading.Event:
    """Hold the sink's answer to every message until the event is set: a slow SMTP server."""
    opened = threading.Event()
    sink.on_accept = lambda received: opened.wait(30)
    return opened
