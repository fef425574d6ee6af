"""The composer page over HTTP (httpx against the editor under uvicorn on loopback, a real SQLite
file, real fixture items approved with Korean commentary): access, CSRF, every action as a
plain form, the JSON API, the preview's own strict policy, and what a ready or sent issue refuses.
The picks and helpers are in support.composer."""

from __future__ import annotations

import html
import re

import pytest

from newsletter.flows import compose
from newsletter.model import Entry, IssueStatus, ItemKind
from newsletter.render import email_problems, size_report
from newsletter.store import issues as issue_store
from newsletter.store import items as item_store
from newsletter.store import transaction
from support.clock import MORNING
from support.composer import ISSUE_DATE, approve_picks, build_now, stored_issue
from support.web import XSS_TITLE, login


@pytest.fixture
def composing(editor):
    """A running editor, the picks approved and today's issue built; returns (editor, picks)."""
    ed = editor()
    picked = approve_picks(ed)
    build_now(ed)
    return ed, picked


def form(csrf: str, **values) -> dict:
    return {"csrf": csrf, "date": ISSUE_DATE, **values}


def test_composer_routes_need_a_session_and_changes_need_the_csrf_token(composing):
    ed, picked = composing
    before = stored_issue(ed)
    with ed.client() as anonymous:
        for path in ("/issue", f"/issue/preview.html?date={ISSUE_DATE}"):
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=%2Fissue")
        for path in ("/api/issue", "/api/issue/preview"):
            assert anonymous.get(path).status_code == 401
        for action in ("build", "move", "remove", "edit", "ready", "draft"):
            answer = anonymous.post(f"/issue/{action}", data={"date": ISSUE_DATE, "item": picked.ids[0],
                                                              "direction": "down", "subject": "무단 제목"})
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
            assert anonymous.post(f"/api/issue/{action if action != 'move' else 'reorder'}",
                                  json={"ids": picked.ids[::-1], "subject": "무단 제목"}).status_code == 401
    with ed.client() as client:
        csrf = login(client)
        for action in ("move", "remove", "edit", "ready", "build"):
            data = {"date": ISSUE_DATE, "item": picked.ids[0], "direction": "down", "subject": "위조된 제목"}
            refused = client.post(f"/issue/{action}", data={**data, "csrf": "stale-token"})
            assert refused.status_code == 403 and "nothing was changed" in refused.text
        for action, body in (("reorder", {"ids": picked.ids[::-1]}), ("remove", {"id": picked.ids[0]}),
                             ("edit", {"subject": "위조된 제목"}), ("ready", {})):
            refused = client.post(f"/api/issue/{action}", json=body)  # no X-CSRF-Token header
            assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
        # from another site, even with the right token
        cross = client.post("/issue/edit", data=form(csrf, subject="다른 사이트"),
                            headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
    assert stored_issue(ed) == before


def test_every_action_works_as_a_plain_form(editor):
    ed = editor()
    picked = approve_picks(ed)
    with ed.client() as client:
        csrf = login(client)
        empty = client.get("/issue")
        assert empty.status_code == 200 and f"{ISSUE_DATE} 호가 아직 없습니다" in empty.text
        assert '<a href="/issue">다음 호</a>' in empty.text  # in the nav

        built = client.post("/issue/build", data=form(csrf))
        assert built.status_code == 303 and built.headers["location"] == f"/issue?date={ISSUE_DATE}&notice=built"
        labs, papers = picked.ids[:3], picked.ids[3:]
        assert stored_issue(ed) == ("draft", "", "", "", labs + papers)
        page = client.get(built.headers["location"]).text
        assert "오늘의 선택으로 호를 채웠습니다" in page
        assert page.index(html.escape(picked.title(0))) < page.index(html.escape(picked.title(1)))
        assert "보안 위협 대응을 백 배 빠르게" in page and "#에이전트" in page  # Korean commentary and tags

        moved = client.post("/issue/move", data=form(csrf, item=labs[0], direction="down"))
        assert moved.headers["location"] == f"/issue?date={ISSUE_DATE}&notice=moved#issue-item-{labs[0]}"
        assert stored_issue(ed)[4] == [labs[1], labs[0], labs[2]] + papers
        # moves stay within a section: the last lab post does not go down among the papers
        client.post("/issue/move", data=form(csrf, item=labs[2], direction="down"))
        client.post("/issue/move", data=form(csrf, item=papers[1], direction="top"))
        assert stored_issue(ed)[4] == [labs[1], labs[0], labs[2], papers[1], papers[0]]

        removed = client.post("/issue/remove", data=form(csrf, item=labs[2]))
        assert removed.headers["location"] == f"/issue?date={ISSUE_DATE}&notice=removed"
        assert labs[2] not in stored_issue(ed)[4]
        assert item_store.get_item(ed.app.conn, labs[2]).status.value == "approved"  # still approved

        subject, note = "오늘의 AI — 어휘와 스케일링", "**편집자** 노트: 이번 주는 토크나이저 이야기"
        saved = client.post("/issue/edit", data=form(csrf, subject=subject, preheader="", note=note))
        assert saved.headers["location"] == f"/issue?date={ISSUE_DATE}&notice=saved"
        assert stored_issue(ed)[1:4] == (subject, "", note)
        page = client.get(saved.headers["location"]).text
        assert f'<strong id="subject-line" lang="ko">{html.escape(subject)}</strong>' in page
        # the defaults are shown beside what the curator typed
        assert '<span id="default-subject">AI 뉴스 #1 — 2024년 7월 19일 (금)</span>' in page
        default_preheader = re.search(r'<span id="default-preheader">([^<]*)</span>', page)[1]
        assert html.unescape(default_preheader).startswith(picked.title(1))
        back = client.post("/issue/edit", data=form(csrf, subject="", preheader="", note=note))
        assert back.status_code == 303
        page = client.get("/issue").text
        assert '<strong id="subject-line" lang="ko">AI 뉴스 #1 — 2024년 7월 19일 (금)</strong>' in page

        ready = client.post("/issue/ready", data=form(csrf))
        assert ready.headers["location"] == f"/issue?date={ISSUE_DATE}&notice=ready"
        page = client.get(ready.headers["location"]).text
        assert '<strong id="issue-status" data-status="ready">발송 준비됨</strong>' in page
        assert 'action="/issue/move"' not in page and "<fieldset disabled>" in page
        assert stored_issue(ed)[0] == "ready"
        client.post("/issue/draft", data=form(csrf))
        assert stored_issue(ed)[0] == "draft"
        assert 'action="/issue/move"' in client.get("/issue").text


def test_a_ready_issue_cannot_be_reordered_and_says_why(composing):
    ed, picked = composing
    with ed.client() as client:
        csrf = login(client)
        assert client.post("/issue/ready", data=form(csrf)).status_code == 303
        before = stored_issue(ed)
        refused = client.post("/issue/move", data=form(csrf, item=picked.ids[0], direction="down"))
        assert refused.status_code == 409
        assert "issue 2024-07-19: is ready; only a draft can change (put it back to draft first)" in refused.text
        assert 'id="composer-error"' in refused.text and 'id="draft-form"' in refused.text  # the way out is there
        for path, data in (("/issue/remove", {"item": picked.ids[0]}),
                           ("/issue/edit", {"subject": "바뀐 제목", "preheader": "", "note": ""}),
                           ("/issue/build", {})):
            assert client.post(path, data=form(csrf, **data)).status_code == 409, path
        headers = {"X-CSRF-Token": csrf}
        api = client.post("/api/issue/reorder", json={"ids": before[4][::-1]}, headers=headers)
        assert api.status_code == 409 and "put it back to draft first" in api.json()["error"]
        assert client.post("/api/issue/edit", json={"subject": "바뀐 제목"}, headers=headers).status_code == 409
        assert stored_issue(ed) == before


def test_a_sent_issue_is_shown_read_only(composing):
    ed, picked = composing
    issue = compose.mark_ready(ed.app.settings, ed.app.conn, compose.find_issue(ed.app.conn), ed.clock(), ed.app.email)
    with transaction(ed.app.conn):
        issue_store.set_status(ed.app.conn, issue.id, IssueStatus.SENDING, ed.clock())
        issue_store.set_status(ed.app.conn, issue.id, IssueStatus.SENT, ed.clock())
    before = stored_issue(ed)
    with ed.client() as client:
        csrf = login(client)
        page = client.get("/issue").text  # today's issue, though sent, is the one shown
        assert '<strong id="issue-status" data-status="sent">발송됨</strong>' in page
        assert "읽기 전용" in page and "<fieldset disabled>" in page
        assert 'action="/issue/move"' not in page and 'action="/issue/remove"' not in page
        assert 'id="ready-form"' not in page and 'id="draft-form"' not in page
        assert '<input type="hidden" name="date" value="2024-07-20">' in page  # the next issue is tomorrow's
        assert html.escape(picked.title(0)) in page and 'id="preview"' in page
        refused = client.post("/issue/edit", data=form(csrf, subject="고친 제목", preheader="", note=""))
        assert refused.status_code == 409 and "is sent; it is read-only" in refused.text
        assert client.post("/issue/draft", data=form(csrf)).status_code == 409
    assert stored_issue(ed) == before


def test_the_preview_is_the_exact_email_under_a_strict_policy_of_its_own(composing):
    ed, picked = composing
    issue = compose.find_issue(ed.app.conn)
    with ed.client() as client:
        login(client)
        preview = client.get(f"/issue/preview.html?date={ISSUE_DATE}")
        assert preview.status_code == 200 and preview.headers["content-type"].startswith("text/html")
        assert preview.text == compose.render_stored_issue(ed.app.settings, ed.app.conn, issue, ed.app.email).html
        policy = preview.headers["content-security-policy"]
        assert "sandbox" in policy.split("; ") and "frame-ancestors 'self'" in policy
        assert "script-src" not in policy and "default-src 'none'" in policy
        assert preview.headers["x-frame-options"] == "SAMEORIGIN"

        page = client.get("/issue")
        assert "frame-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        frame = re.search(r"<iframe [^>]*>", page.text)[0]
        assert 'sandbox=""' in frame and "allow-scripts" not in frame
        assert f'src="/issue/preview.html?date={ISSUE_DATE}"' in frame
        # the rest of the editor keeps its own policy: no framing at all
        queue = client.get("/queue")
        assert queue.headers["x-frame-options"] == "DENY"
        assert "frame-src" not in queue.headers["content-security-policy"]

        # the text part and the size meter as the page shows them
        rendered = compose.render_stored_issue(ed.app.settings, ed.app.conn, issue, ed.app.email)
        assert html.escape(rendered.text.strip()[:200]) in page.text
        report = size_report(rendered.html)
        assert f'<p class="size" id="size" data-status="{report.status}">' in page.text
        assert f'value="{report.bytes}"' in page.text and f"{report.kb} KB / 102 KB" in page.text
        assert client.get("/issue/preview.html?date=2024-07-01").status_code == 404


def test_the_size_meter_warns_above_90_kb(composing):
    ed, picked = composing
    issue = compose.find_issue(ed.app.conn)
    # a long editor's note in Hangul (three bytes a syllable) brings the email near Gmail's clipping
    base = size_report(compose.render_stored_issue(ed.app.settings, ed.app.conn, issue, ed.app.email).html).bytes
    syllables = (92 * 1024 - base) // 3
    compose.edit_issue(ed.app.conn, issue, ed.clock(), note="가나다라마바사아자차" * (syllables // 10))
    report = size_report(compose.render_stored_issue(ed.app.settings, ed.app.conn,
                                                     compose.find_issue(ed.app.conn), ed.app.email).html)
    assert report.status == "warn"
    with ed.client() as client:
        login(client)
        page = client.get("/issue").text
        assert '<p class="size" id="size" data-status="warn">' in page
        assert "90 KB를 넘었습니다" in re.search(r'<span id="size-note"[^>]*>([^<]*)</span>', page, re.S)[1]
        assert client.get("/api/issue").json()["size"]["status"] == "warn"


def test_the_json_api_does_what_the_page_does(composing):
    ed, picked = composing
    labs, papers = picked.ids[:3], picked.ids[3:]
    with ed.client() as client:
        csrf = login(client)
        headers = {"X-CSRF-Token": csrf}
        got = client.get("/api/issue").json()
        assert (got["date"], got["number"], got["status"], got["editable"]) == (ISSUE_DATE, 1, "draft", True)
        assert [item["id"] for item in got["items"]] == labs + papers
        assert got["items"][3]["commentary"].startswith("연산량에 따라") and "토크나이저" in got["items"][3]["tags"]
        assert got["subject"] == got["default_subject"] == "AI 뉴스 #1 — 2024년 7월 19일 (금)"
        assert got["size"]["status"] == "ok" and got["problems"] == [] and picked.title(0) in got["text"]

        # a new order across sections comes back grouped by section, as the email shows it
        answer = client.post("/api/issue/reorder", json={"ids": [papers[1], labs[2], labs[0], papers[0], labs[1]]},
                             headers=headers)
        assert answer.status_code == 200
        assert [item["id"] for item in answer.json()["items"]] == [labs[2], labs[0], labs[1], papers[1], papers[0]]
        assert stored_issue(ed)[4] == [labs[2], labs[0], labs[1], papers[1], papers[0]]
        text = answer.json()["text"]
        assert text.index(picked.title(2)) < text.index(picked.title(0)) < text.index(picked.title(1))
        # a list that is not the issue's items is refused whole
        for bad in ([labs[0], labs[1]], labs + papers + [labs[0]], ["1"]):
            refused = client.post("/api/issue/reorder", json={"ids": bad}, headers=headers)
            assert refused.status_code == 400, bad
        assert stored_issue(ed)[4] == [labs[2], labs[0], labs[1], papers[1], papers[0]]

        edited = client.post("/api/issue/edit", json={"subject": "한글 제목 ✨", "note": "*노트*"}, headers=headers)
        assert edited.json()["subject"] == "한글 제목 ✨" and edited.json()["note"] == "*노트*"
        preview = client.get("/api/issue/preview").json()
        assert preview["subject"] == "한글 제목 ✨" and "<title>한글 제목 ✨</title>" in preview["html"]
        assert "<em>노트</em>" in preview["html"] and preview["size"]["bytes"] == len(preview["html"].encode())

        removed = client.post("/api/issue/remove", json={"id": labs[0]}, headers=headers)
        assert labs[0] not in [item["id"] for item in removed.json()["items"]]
        assert client.post("/api/issue/remove", json={"id": labs[0]}, headers=headers).status_code == 404
        assert client.post("/api/issue/ready", json={}, headers=headers).json()["status"] == "ready"
        assert client.post("/api/issue/draft", json={"date": ISSUE_DATE}, headers=headers).json()["status"] == "draft"
        assert client.get("/api/issue?date=2024-07-01").status_code == 404
        assert client.get("/api/issue?date=not-a-date").status_code == 400
        rebuilt = client.post("/api/issue/build", json={}, headers=headers)
        assert rebuilt.status_code == 200 and rebuilt.json()["added"] == [labs[0]]  # still approved: back it comes


def test_a_hostile_title_stays_text_on_the_page_and_in_the_preview(composing):
    ed, picked = composing
    hostile = Entry(key="https://evil.example/post", kind=ItemKind.POST, url="https://evil.example/post",
                    title=XSS_TITLE + "\r\nBcc: victim@example.com", summary_text="악성 요약", published=MORNING)
    with transaction(ed.app.conn):
        item_store.upsert_entries(ed.app.conn, "openai", [hostile], MORNING)
    hostile_id = item_store.get_item_by_key(ed.app.conn, hostile.key).id
    compose.approve_item(ed.app.conn, hostile_id, ed.clock(), commentary="<img src=x onerror=alert(1)> 위험한 글")
    build_now(ed)
    with ed.client() as client:
        login(client)
        page = client.get("/issue").text
        assert "&lt;script&gt;window.__xss" in page and "<script>window.__xss" not in page
        assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; 위험한 글" in page
        preview = client.get(f"/issue/preview.html?date={ISSUE_DATE}").text
        assert email_problems(preview) == []  # no script, no event handler, no relative link
        assert "&lt;script&gt;window.__xss" in preview and "&lt;img src=x onerror=alert(1)&gt; 위험한 글" in preview
