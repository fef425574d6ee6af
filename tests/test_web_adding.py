"""Add by hand over HTTP: X post URLs through an oEmbed stand-in, arXiv ids through an API
stand-in, web pages' metadata, never a duplicate, and never a non-public address by default."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.fixtures import fixture_bytes
from newsletter.demo.server import Route
from support.apps import VOCABULARY_PAPER
from support.web import login, snapshot


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
    from newsletter.collect.guard import GuardedTransport
    from newsletter.errors import RefusedAddress

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
