"""The editor over HTTP (httpx against the app under uvicorn on loopback): access control,
CSRF, cookies and headers, inert feed content, triage and annotation through the API."""

from __future__ import annotations

import re

import httpx
from starlette.routing import Mount, Route as StarletteRoute

from newsletter.model import Entry, ItemKind
from newsletter.store import sources as source_store
from newsletter.store import transaction
from newsletter.store import users as user_store
from newsletter.store.items import upsert_entries
from newsletter.web.public import PUBLIC_PATHS  # delivery issue: pages anyone may use
from newsletter.web.archive_site import PUBLIC_PATHS as ARCHIVE_PATHS  # schedule issue: the email's web link
from support.apps import CURATOR, KARPATHY_POST, PASSWORD, VOCABULARY_PAPER, item_id
from support.clock import MORNING
from support.server import AppServer
from support.web import XSS_SUMMARY, XSS_TITLE, csrf_of, login, snapshot, statuses


def concrete_routes(asgi, item: int):
    for route in asgi.routes:
        if isinstance(route, Mount) or not isinstance(route, StarletteRoute):
            continue
        if route.path in ("/login", *PUBLIC_PATHS, *ARCHIVE_PATHS):  # PUBLIC_PATHS: subscribe, confirm, unsubscribe
            continue
        path = route.path.replace("{item_id:id}", str(item)).replace("{action:str}", "approve")
        for method in sorted(route.methods - {"HEAD"}):
            yield method, path


def test_every_curator_route_needs_a_session(editor):
    ed = editor()
    target = 1
    before = snapshot(ed)
    routes = list(concrete_routes(ed.server.asgi, target))
    assert len(routes) >= 25  # the whole table, not a hand-picked few
    forged = {"nl_session": "c2Vzc2lvbg.forged.signature"}
    for cookies in ({}, forged):
        with ed.client(cookies=cookies) as client:
            for method, path in routes:
                answer = client.request(method, path, data={"action": "approve", "url": "https://example.com/"}
                                        if not path.startswith("/api/") else None)
                if path.startswith("/api/"):
                    assert answer.status_code == 401, (method, path, answer.status_code)
                    assert "login required" in answer.json()["error"]
                else:
                    assert answer.status_code == 303, (method, path, answer.status_code)
                    assert answer.headers["location"].startswith("/login?next=%2F"), (method, path)
    with ed.client(headers={"Authorization": "Bearer nlt_not-a-real-token"}) as client:
        assert client.get("/api/items").status_code == 401
        assert client.post(f"/api/items/{target}/approve").status_code == 401
    assert snapshot(ed) == before


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(editor):
    ed = editor()
    with ed.client() as client:
        page = client.get("/login?next=/picks")
        assert page.status_code == 200 and 'lang="ko"' in page.text
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
        answer = client.post("/login", data={"name": CURATOR, "password": PASSWORD, "csrf": token, "next": "/picks"})
        assert answer.status_code == 303 and answer.headers["location"] == "/picks"
        cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("nl_session="))
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
        assert "secure" not in flags  # plain http on loopback: a Secure cookie would never come back
        assert client.get("/picks").status_code == 200
        csrf = csrf_of(client.get("/queue").text)
        stolen = dict(client.cookies)
        assert client.post("/logout", data={"csrf": csrf}).headers["location"] == "/login"
    with ed.client(cookies=stolen) as replay:  # the old cookie is dead, not just forgotten
        assert replay.get("/queue").status_code == 303


def test_cookie_is_secure_behind_an_https_proxy(editor):
    ed = editor()
    # a reverse proxy on the same machine says the browser used https
    with ed.client(headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
        client.cookies.set("nl_login", page.cookies["nl_login"])
        answer = client.post("/login", data={"name": CURATOR, "password": PASSWORD, "csrf": token})
    cookie = next(v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("nl_session="))
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_wrong_passwords_are_rate_limited_per_address(editor):
    ed = editor(login_attempts=3)
    with ed.client() as client:
        for _ in range(3):
            page = client.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
            wrong = client.post("/login", data={"name": CURATOR, "password": "틀린 비밀번호", "csrf": token})
            assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
        blocked = client.post("/login", data={"name": CURATOR, "password": PASSWORD, "csrf": token})
        assert blocked.status_code == 429 and "Too many failed logins" in blocked.text
        assert "nl_session" not in blocked.headers.get("set-cookie", "")
        assert client.get("/queue").status_code == 303
    with ed.reader() as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0


def test_login_form_needs_its_token(editor):
    ed = editor()
    with ed.client() as client:
        client.get("/login")
        answer = client.post("/login", data={"name": CURATOR, "password": PASSWORD, "csrf": "forged"})
        assert answer.status_code == 403 and "expired" in answer.text
        assert client.get("/queue").status_code == 303


def test_posts_without_a_valid_csrf_token_are_refused_and_change_nothing(editor):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with ed.client() as client:
        csrf = login(client)
        before = snapshot(ed)
        for token in (None, "", "wrong-token", csrf[:-1]):
            form = {"action": "approve", "commentary": "몰래 바꾼 코멘트", "tags": "#해킹", "direction": "up",
                    "url": "https://example.com/"}
            if token is not None:
                form["csrf"] = token
            for path in (f"/items/{paper}/triage", f"/items/{paper}", f"/items/{paper}/draft", "/undo", "/add",
                         f"/items/{paper}/draft/discard"):
                answer = client.post(path, data=form)
                assert answer.status_code == 403, (path, token, answer.status_code)
            headers = {"X-CSRF-Token": token} if token is not None else {}
            for path, body in ((f"/api/items/{paper}/approve", {}), (f"/api/items/{paper}/annotate",
                               {"commentary": "몰래"}), (f"/api/items/{paper}/draft", {"commentary": "몰래"}),
                               ("/api/undo", {}), ("/api/add-url", {"url": "https://example.com/"}),
                               ("/api/picks/reorder", {"ids": []})):
                answer = client.post(path, json=body, headers=headers)
                assert answer.status_code == 403 and "CSRF" in answer.json()["error"], (path, token)
        # the right token from another site's page is refused too
        evil = client.post(f"/api/items/{paper}/approve", headers={"X-CSRF-Token": csrf,
                                                                   "Origin": "https://evil.example"})
        assert evil.status_code == 403
        assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403
        assert snapshot(ed) == before
        # and with the token the same request works
        assert client.post(f"/api/items/{paper}/approve", headers={"X-CSRF-Token": csrf}).json()["status"] == \
            "approved"


def test_hostile_feed_content_is_inert_in_the_queue_the_edit_page_and_the_api(editor):
    ed = editor()
    hostile = Entry(key="https://evil.example/post", kind=ItemKind.POST, url="javascript:alert(document.cookie)",
                    title=XSS_TITLE, summary_html=XSS_SUMMARY, summary_text=XSS_SUMMARY, published=MORNING,
                    authors=('<img src=x onerror=alert(1)>',))
    with transaction(ed.app.conn):  # stored raw, as if a collector had let it through
        upsert_entries(ed.app.conn, "openai", [hostile], MORNING)
    hostile_id = item_id(ed.reader(), hostile.key)
    with ed.client() as client:
        login(client)
        for path in ("/queue", f"/items/{hostile_id}"):
            page = client.get(path)
            assert page.status_code == 200
            assert "&lt;script&gt;window.__xss" in page.text  # shown as text
            html = page.text
            assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", html), path  # only our own script file
            assert not re.search(r"<(img|svg|p|a)\b[^>]*\bon(error|load|click)\s*=", html, re.I), path
            assert 'href="javascript:' not in html.lower()
            assert "default-src 'none'" in page.headers["content-security-policy"]
            assert "script-src 'self'" in page.headers["content-security-policy"]
        edit_page = client.get(f"/items/{hostile_id}").text
        assert '<img src="https://example.com/x.png">' in edit_page  # the harmless part survives
        assert "<a>click me</a>" in edit_page or "<a rel=" in edit_page

        data = client.get(f"/api/items/{hostile_id}")
        assert data.headers["content-type"].startswith("application/json")
        assert data.headers["x-content-type-options"] == "nosniff"
        item = data.json()
        assert item["title"] == XSS_TITLE  # text, for a client to escape
        assert item["url"] == ""
        assert "onerror" not in item["summary_html"] and "javascript:" not in item["summary_html"]
        assert "onload" not in item["summary_html"] and "onclick" not in item["summary_html"]
        listed = client.get("/api/items", params={"q": "악성"}).json()["items"]
        assert [i["id"] for i in listed] == [hostile_id] and listed[0]["url"] == ""


def test_triage_annotate_undo_and_picks_through_the_api(editor):
    ed = editor()
    with ed.client() as client:
        csrf = login(client)
        headers = {"X-CSRF-Token": csrf}
        queue = client.get("/api/items").json()
        assert queue["total"] == 9 and [s["section"] for s in queue["sections"]] == ["labs", "papers"]
        paper = next(i for i in queue["items"] if i["key"] == VOCABULARY_PAPER)
        assert paper["seen"] == ["cs.CL, cs.AI", "also on X: @karpathy"]
        assert {"source": "x-karpathy", "url": KARPATHY_POST, "seen": "2024-07-19T00:30:00Z"} in paper["mentions"]
        labs = [i["id"] for i in queue["items"] if i["section"] == "labs"]

        for item in labs[:3]:
            assert client.post(f"/api/items/{item}/approve", headers=headers).json()["status"] == "approved"
        snoozed = client.post(f"/api/items/{paper['id']}/snooze", headers=headers).json()
        assert snoozed["status"] == "snoozed" and snoozed["snoozed_until"] == "2024-07-19T21:00:00Z"
        assert client.post(f"/api/items/{labs[3]}/reject", headers=headers).json()["status"] == "rejected"
        assert client.post(f"/api/items/{labs[3]}/publish", headers=headers).status_code == 400
        assert client.post("/api/items/99999/approve", headers=headers).status_code == 404
        assert client.get("/api/items").json()["total"] == 4

        undone = client.post("/api/undo", headers=headers).json()["item"]
        assert undone["id"] == labs[3] and undone["status"] == "new"

        annotated = client.post(f"/api/items/{labs[0]}/annotate", headers=headers, json={
            "commentary": "**연산량**에 따라 최적의 어휘 수가 달라진다는 [논문](https://arxiv.org/abs/2407.13623)",
            "tags": ["#언어모델", "Scaling_Law", "scaling-law"], "title_override": "  제목을 바꿨다  ",
            "related": [{"url": "https://example.com/더-읽기", "title": "더 읽기"}]}).json()
        assert annotated["tags"] == ["언어모델", "scaling-law"]
        assert annotated["title"] == "제목을 바꿨다" and annotated["original_title"] != "제목을 바꿨다"
        assert annotated["commentary_html"].startswith("<p><strong>연산량</strong>에 따라")
        assert annotated["related"] == [{"url": "https://example.com/더-읽기", "title": "더 읽기"}]
        bad = client.post(f"/api/items/{labs[0]}/annotate", headers=headers,
                          json={"commentary": "바뀌면 안 됨", "related": "ftp://example.com/x"})
        assert bad.status_code == 400 and "line 1" in bad.json()["error"]
        assert client.post(f"/api/items/{labs[0]}/annotate", headers=headers,
                           json={"section_override": "없는섹션"}).status_code == 400
        assert client.get(f"/api/items/{labs[0]}").json()["commentary"].startswith("**연산량**")

        picks = [i["id"] for i in client.get("/api/picks").json()["items"]]
        assert picks == labs[:3]
        reordered = client.post("/api/picks/reorder", headers=headers, json={"ids": [labs[2], labs[0]]}).json()
        assert [i["id"] for i in reordered["items"]] == [labs[2], labs[0], labs[1]]
        assert client.post("/api/picks/reorder", headers=headers, json={"ids": [paper["id"]]}).status_code == 400
        assert client.post("/api/picks/reorder", headers=headers, content=b"not json").status_code == 400

        assert client.get("/api/tags", params={"q": "#언"}).json() == {"tags": ["언어모델"]}

        # the next morning the snoozed paper is waiting again
        ed.clock.advance(hours=21)
        woken = client.get("/api/items", params={"section": "papers"}).json()["items"]
        assert next(i for i in woken if i["id"] == paper["id"])["status"] == "new"


def test_api_token_works_without_csrf_and_is_refused_when_wrong(editor):
    ed = editor()
    with transaction(ed.app.conn):
        token = user_store.create_token(ed.app.conn, CURATOR, MORNING)
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with ed.client(headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.get("/api/items").json()["total"] == 9
        assert client.post(f"/api/items/{paper}/approve").json()["status"] == "approved"
        assert client.get("/queue").status_code == 200  # pages too
    with ed.client(headers={"Authorization": f"Bearer {token}x"}) as client:
        assert client.post(f"/api/items/{paper}/reject").status_code == 401
    assert statuses(ed)[VOCABULARY_PAPER] == "approved"


def test_drafts_survive_a_reload_and_saving_clears_them(editor):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with ed.client() as client:
        csrf = login(client)
        saved = client.post(f"/api/items/{paper}/draft", headers={"X-CSRF-Token": csrf},
                            json={"commentary": "쓰다 만 코멘트: 어휘 수와 **스케일링**", "tags": "#토크나이저 #언"})
        assert saved.status_code == 200
        page = client.get(f"/items/{paper}").text
        assert "쓰다 만 코멘트: 어휘 수와 **스케일링**</textarea>" in page
        assert 'value="#토크나이저 #언"' in page and 'id="draft-notice"' in page
        assert "초안" in client.get("/queue").text
        done = client.post(f"/items/{paper}", data={
            "csrf": csrf, "commentary": "어휘 수와 **스케일링**", "tags": "#토크나이저", "title_override": "",
            "section_override": "", "related": "", "next": "/queue"})
        assert done.status_code == 303 and done.headers["location"] == f"/queue?notice=saved#item-{paper}"
        page = client.get(f"/items/{paper}").text
        assert 'id="draft-notice"' not in page and "어휘 수와 **스케일링**</textarea>" in page
    with ed.reader() as conn:
        assert conn.execute("SELECT count(*) FROM drafts").fetchone()[0] == 0


def test_a_bad_edit_keeps_what_was_typed_and_saves_nothing(editor):
    ed = editor()
    paper = item_id(ed.reader(), VOCABULARY_PAPER)
    with ed.client() as client:
        csrf = login(client)
        answer = client.post(f"/items/{paper}", data={
            "csrf": csrf, "commentary": "이 문장은 사라지면 안 된다", "tags": "#태그", "title_override": "",
            "section_override": "", "related": "https://example.com/ok 좋은 링크\njavascript:alert(1) 나쁜 링크"})
        assert answer.status_code == 400
        assert "line 2" in answer.text and "이 문장은 사라지면 안 된다</textarea>" in answer.text
    with ed.reader() as conn:
        assert conn.execute("SELECT commentary FROM items WHERE id = ?", (paper,)).fetchone()[0] == ""


def test_sources_page_shows_health(editor):
    ed = editor()
    with transaction(ed.app.conn):
        source_store.record_success(ed.app.conn, "openai", "feed", MORNING, new_items=4, etag=None,
                                    last_modified=None)
        for _ in range(3):
            source_store.record_failure(ed.app.conn, "deepmind", "feed", MORNING,
                                        "deepmind: HTTP 503 Service Unavailable: https://deepmind.google/blog/rss.xml")
    with ed.client() as client:
        login(client)
        page = client.get("/sources").text
        row = re.search(r'<tr class="failing" data-source="deepmind">(.*?)</tr>', page, re.S)[1]
        assert '<td class="failures">3</td>' in row and "HTTP 503 Service Unavailable" in row
        openai = re.search(r'data-source="openai">(.*?)</tr>', page, re.S)[1]
        assert "2024-07-19 (금) 09:30" in openai and "<td>4</td>" in openai
        assert "X_BEARER_TOKEN is not set" in page
        data = client.get("/api/sources").json()["sources"]
        assert next(s for s in data if s["id"] == "deepmind")["consecutive_failures"] == 3


def test_queue_pages_filters_and_search_over_http(editor):
    ed = editor(labs=30, papers=16)
    with ed.client() as client:
        login(client)
        first = client.get("/queue").text
        assert first.count("data-item-card") == 47  # 31 lab posts and 16 papers fit one page of 50
        paged = client.get("/api/items", params={"per_page": 10, "page": 2}).json()
        assert paged["total"] == 47 and paged["pages"] == 5 and len(paged["items"]) == 10
        papers = client.get("/queue", params={"section": "papers", "q": "모델"}).text
        assert "data-item-card" not in papers and "에 맞는 항목이 없습니다" in papers
        found = client.get("/api/items", params={"q": "vocabulary"}).json()["items"]
        assert [i["key"] for i in found] == [VOCABULARY_PAPER]
        assert client.get("/api/items", params={"date": "어제"}).status_code == 400
        assert "not a date" in client.get("/queue", params={"date": "어제"}).text


def test_the_session_secret_is_generated_once_and_survives_a_restart(editor):
    ed = editor()
    with ed.client() as client:
        login(client)
        cookies = dict(client.cookies)
    with ed.reader() as conn:
        assert conn.execute("SELECT value FROM kv WHERE key = 'session_secret'").fetchone()[0]
    restarted = AppServer(ed.app).start()
    try:
        with httpx.Client(base_url=restarted.base_url, cookies=cookies) as client:
            assert client.get("/queue").status_code == 200
    finally:
        restarted.stop()


def test_an_item_promised_to_a_ready_issue_stays_approved(editor):
    from datetime import date

    from newsletter.model import IssueStatus
    from newsletter.store import issues as issue_store

    ed = editor()
    ids = [i["id"] for i in editor_items(ed)]
    with ed.client() as client:
        csrf = login(client)
        headers = {"X-CSRF-Token": csrf}
        for item in ids[:2]:
            client.post(f"/api/items/{item}/approve", headers=headers)
        with transaction(ed.app.conn):
            draft = issue_store.create_issue(ed.app.conn, date(2024, 7, 19), MORNING)
            issue_store.set_items(ed.app.conn, draft.id, ids[:2], MORNING)
        # out of a draft: it simply leaves the issue
        assert client.post(f"/api/items/{ids[1]}/reject", headers=headers).json()["status"] == "rejected"
        with ed.reader() as conn:
            assert issue_store.get_issue(conn, draft.id).item_ids == (ids[0],)
        with transaction(ed.app.conn):
            issue_store.set_status(ed.app.conn, draft.id, IssueStatus.READY, MORNING)
        refused = client.post(f"/api/items/{ids[0]}/snooze", headers=headers)
        assert refused.status_code == 409 and "back to draft" in refused.json()["error"]
    with ed.reader() as conn:
        assert conn.execute("SELECT status FROM items WHERE id = ?", (ids[0],)).fetchone()[0] == "approved"


def editor_items(ed) -> list[dict]:
    with ed.client() as client:
        login(client)
        return client.get("/api/items").json()["items"]


def test_login_attempts_sent_in_parallel_count_against_each_other(editor):
    from concurrent.futures import ThreadPoolExecutor

    ed = editor(login_attempts=3)

    def attempt(_) -> int:
        with ed.client() as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]
            return client.post("/login", data={"name": CURATOR, "password": "틀림", "csrf": token}).status_code

    with ThreadPoolExecutor(8) as pool:
        answers = sorted(pool.map(attempt, range(8)))
    assert answers == [401] * 3 + [429] * 5
