"""The editor over HTTP (httpx against the app under uvicorn on loopback): access control,
CSRF, cookies and headers, inert feed content, triage and annotation through the API."""

from __future__ import annotations

import asyncio
import json
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.routing import Mount, Route as StarletteRoute

from conftest import fixture_bytes
from newsletter.demo.server import Route
from newsletter.model import Entry, ItemKind
from newsletter.store import sources as source_store
from newsletter.store import transaction
from newsletter.store import users as user_store
from newsletter.store.items import upsert_entries
from test_web_support import (CURATOR, KARPATHY_POST, MORNING, PASSWORD, VOCABULARY_PAPER, EditorServer, csrf_of,
                              editor, item_id, login)  # noqa: F401 (editor is a fixture)

XSS_TITLE = '<script>window.__xss = "title"</script>Evil <b>title</b>'
XSS_SUMMARY = ('<img src="https://example.com/x.png" onerror="window.__xss = \'img\'">'
               '<a href="javascript:window.__xss = \'link\'">click me</a>'
               '<svg onload="window.__xss = \'svg\'"></svg><p onclick="alert(1)">악성 요약</p>')


def statuses(editor_) -> dict[str, str]:
    with editor_.reader() as conn:
        return dict(conn.execute("SELECT key, status FROM items").fetchall())


def snapshot(editor_) -> dict:
    """Everything a curator action could change."""
    conn = editor_.reader()
    try:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in
                ("items", "item_tags", "mentions", "drafts", "picks", "related_links", "triage_log")}
    finally:
        conn.close()


def concrete_routes(asgi, item: int):
    for route in asgi.routes:
        if isinstance(route, Mount) or not isinstance(route, StarletteRoute):
            continue
        if route.path in ("/login",):
            continue
        path = route.path.replace("{item_id:int}", str(item)).replace("{action:str}", "approve")
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


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "ftp://ftp.example.com/pub/file.txt",
    "http://127.0.0.1:{port}/page.html",
    "http://localhost:{port}/page.html",
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:{port}/page.html",
    "http://[::ffff:127.0.0.1]:{port}/page.html",
    "javascript:alert(1)",
])
def test_add_by_url_refuses_non_public_targets_by_default(editor, server, url):
    server.routes["/page.html"] = Route(b"<title>secret</title>", "text/html")
    ed = editor()
    target = url.format(port=server.base_url.rsplit(":", 1)[1])
    before = snapshot(ed)
    with ed.client() as client:
        csrf = login(client)
        answer = client.post("/api/add-url", headers={"X-CSRF-Token": csrf}, json={"url": target})
        assert answer.status_code == 400, answer.text
        form = client.post("/add", data={"csrf": csrf, "url": target})
        assert form.status_code == 400 and 'class="error"' in form.text
    assert server.hits("/page.html") == []
    assert snapshot(ed) == before


def test_redirects_to_private_addresses_are_refused_at_the_transport(server):
    """A public page that redirects to an internal one: each hop is checked before connecting."""
    from newsletter.collect.http import HttpClient
    from newsletter.config import CollectSettings
    from newsletter.web.adding import GuardedTransport, RefusedAddress

    server.routes["/internal"] = Route(b"secret", "text/plain")

    async def fetch(allow_private: bool) -> bytes:
        transport = GuardedTransport(allow_private)
        async with HttpClient(CollectSettings(), "test@example.com", transport=transport) as http:
            return (await http.get(server.url("/internal"))).content

    def run(allow_private: bool) -> bytes:
        # in a thread of its own: the session's Playwright keeps an event loop on the main thread
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, fetch(allow_private)).result()

    with pytest.raises(RefusedAddress, match="loopback, private or link-local"):
        run(False)
    assert server.hits("/internal") == []
    assert run(True) == b"secret"


def test_add_by_url_reads_a_pages_metadata_safely_and_never_duplicates(editor, server):
    title = "한국어 <script>alert('x')</script> 모델 공개"
    description = "설명 " + "가" * 3000
    page = (f'<html><head><meta charset="euc-kr"><title>fallback</title>'
            f'<meta property="og:title" content="{title.replace("<", "&lt;")}">'
            f'<meta property="og:description" content="{description}">'
            f'<meta property="og:site_name" content="예시 블로그"></head><body>본문</body></html>').encode("euc-kr")
    server.routes["/post.html"] = Route(page, "text/html")
    server.routes["/paper.pdf"] = Route(b"%PDF-1.4", "application/pdf")
    ed = editor(allow_private=True)
    with ed.client() as client:
        csrf = login(client)
        headers = {"X-CSRF-Token": csrf}
        added = client.post("/api/add-url", headers=headers, json={"url": server.url("/post.html?utm_source=x")})
        assert added.status_code == 201 and added.json()["created"] is True
        item = added.json()["item"]
        assert item["title"] == "한국어 <script>alert('x')</script> 모델 공개"  # text, never markup
        assert item["source"] == "manual" and item["section"] == "labs"
        assert item["summary"].startswith("설명 가가") and len(item["summary"]) <= 1000
        assert "<script" not in item["summary_html"]
        assert item["url"] == server.url("/post.html")  # tracking parameter dropped

        again = client.post("/api/add-url", headers=headers, json={"url": server.url("/post.html#top")})
        assert again.status_code == 200 and again.json()["created"] is False
        assert again.json()["item"]["id"] == item["id"]
        assert len(server.hits("/post.html")) == 1  # known by its canonical key: not fetched again

        pdf = client.post("/api/add-url", headers=headers, json={"url": server.url("/paper.pdf")})
        assert pdf.status_code == 400 and "not a web page" in pdf.json()["error"]
        missing = client.post("/api/add-url", headers=headers, json={"url": server.url("/gone.html")})
        assert missing.status_code == 502 and "404" in missing.json()["error"]
        assert client.post("/api/add-url", headers=headers, json={"url": "그냥 글자"}).status_code == 400

        # a known paper pasted as a URL: found by key, the API is not asked
        known = client.post("/api/add-url", headers=headers, json={"url": "https://arxiv.org/pdf/2407.13623v2"})
        assert known.json()["created"] is False and known.json()["item"]["key"] == VOCABULARY_PAPER
        assert server.hits("/arxiv/api/query") == []
    with ed.reader() as conn:
        assert conn.execute("SELECT count(*) FROM items WHERE key LIKE ?", ("%post.html%",)).fetchone()[0] == 1


def test_add_by_arxiv_id_and_x_post_url(editor, server):
    cassette = json.loads(fixture_bytes("arxiv/arxiv-api-new-format-2026-id_list-two-ids.cassette.json"))
    server.routes["/arxiv/api/query"] = Route(cassette["body"].encode("utf-8"), "application/atom+xml")
    server.routes["/oembed"] = Route(fixture_bytes("x/oembed-example.json"), "application/json")
    ed = editor()  # private URLs refused: the configured API endpoints are not pasted URLs
    with ed.client() as client:
        csrf = login(client)
        headers = {"X-CSRF-Token": csrf}
        paper = client.post("/api/add-url", headers=headers, json={"url": "arXiv:1707.08567v1"}).json()
        assert paper["created"] and paper["item"]["key"] == "arxiv:1707.08567"
        assert paper["item"]["section"] == "papers" and paper["item"]["kind"] == "paper"
        assert server.hits("/arxiv/api/query")[0].query.startswith("id_list=1707.08567")
        absent = client.post("/api/add-url", headers=headers, json={"url": "0808.05394"})
        assert absent.status_code == 422 and "no paper 0808.05394" in absent.json()["error"]

        post = client.post("/api/add-url", headers=headers,
                           json={"url": "https://x.com/karpathy/status/1814339947722158085?s=20"}).json()
        assert post["created"] and post["item"]["key"] == "x:1814339947722158085"
        assert post["item"]["section"] == "x" and "한국어" in post["item"]["summary"]
        assert "<script" not in post["item"]["summary_html"]
        page = client.get(f"/items/{post['item']['id']}")
        assert "Tokenizers are still the most underrated part of LLMs" in page.text


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
    restarted = EditorServer(ed.app).start()
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
