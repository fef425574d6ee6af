"""Collecting against a real loopback HTTP server: conditional GET, failures, merging."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from newsletter.demo.server import Route
from newsletter.model import FetchOutcome, ItemStatus
from newsletter.store import items as item_store
from newsletter.store import sources as source_store
from newsletter.store import transaction
from support.clock import NOW, fixed_clock
from support.cli import newsletter
from support.config import write_config
from support.fixtures import RSS, bluesky_post_linking, fixture_bytes

OPENAI = "feeds/openai-news-rss-2025-07-28.xml"
DEEPMIND = "feeds/google-deepmind-blog-rss-2025-07.xml"
LISTING = "arxiv/arxiv-listing-cs.CL-2024-07-19.rss.xml"


def feed(source_id: str, url: str) -> dict:
    return {"id": source_id, "kind": "feed", "url": url, "section": "labs"}


def collect(app, *only):
    return asyncio.run(app.collect(only))


def by_id(report):
    return {r.source_id: r for r in report.results}


def test_second_collect_of_unchanged_feeds_is_conditional_and_adds_nothing(server, make_app):
    server.routes["/openai.xml"] = Route(fixture_bytes(OPENAI), RSS)
    server.routes["/deepmind.xml"] = Route(fixture_bytes(DEEPMIND), RSS)
    app = make_app([feed("openai", server.url("/openai.xml")), feed("deepmind", server.url("/deepmind.xml"))])

    first = collect(app)
    assert {r.status for r in first.results} == {FetchOutcome.OK}
    assert first.new > 500  # OpenAI alone has 599 entries
    stored = len(item_store.list_items(app.conn))
    assert stored == first.new

    second = collect(app)
    assert {r.status for r in second.results} == {FetchOutcome.NOT_MODIFIED}
    assert second.new == 0
    assert len(item_store.list_items(app.conn)) == stored
    for path in ("/openai.xml", "/deepmind.xml"):
        first_request, second_request = server.hits(path)
        assert "If-None-Match" not in first_request.headers
        assert second_request.headers["If-None-Match"].startswith('"')
        assert second_request.headers["If-Modified-Since"] == server.LAST_MODIFIED
    user_agent = server.hits("/openai.xml")[0].headers["User-Agent"]
    assert "test@example.com" in user_agent and "newsletter" in user_agent


FAILURES = {
    "status-500": (Route(b"oops", status=500), "HTTP 500"),
    "status-404": (Route(b"gone", status=404), "HTTP 404"),
    "garbage": (Route(b"\x00\x01 this is not a feed \xff" * 50, "application/octet-stream"), ""),
    "html-page": (Route(b"<!doctype html><html><body><p>Just a page</p></body></html>", "text/html"), ""),
    "hangs": (Route(fixture_bytes(DEEPMIND), RSS, hang=5, conditional=False), "read timeout"),
    "redirect-loop": (Route(), "redirects"),  # redirect_to: itself, set per kind below
    "oversized": (Route(stream_bytes=3 * 1024 * 1024), "limit"),
    "rate-limited": (Route(b"slow down", status=429, headers={"Retry-After": "120"}), "Retry-After 120"),
}


def failing_source(kind: str, name: str, server) -> tuple[dict, str]:
    """A source of `kind` whose one request goes to /<kind>/<name>..., and that request's path."""
    base = f"/{kind}/{name}"
    if kind == "bluesky":
        return ({"id": name, "kind": kind, "handle": "lab.bsky.social", "api_url": server.url(base)},
                f"{base}/app.bsky.feed.getAuthorFeed")
    return {"id": name, "kind": kind, "url": server.url(base)}, base


@pytest.mark.parametrize("kind", ["feed", "hf_papers", "bluesky"])
def test_each_failing_source_is_recorded_and_never_stops_the_others(server, make_app, kind):
    server.routes["/good.xml"] = Route(fixture_bytes(DEEPMIND), RSS)
    sources = [feed("good", server.url("/good.xml"))]
    paths = {}
    for name, (route, _) in FAILURES.items():
        source, paths[name] = failing_source(kind, name, server)
        server.routes[paths[name]] = replace(route, redirect_to=paths[name]) if name == "redirect-loop" else route
        sources.append(source)
    app = make_app(sources, read_timeout=0.5, max_body_mb=1)

    results = by_id(collect(app))

    assert results["good"].status is FetchOutcome.OK and results["good"].new > 50
    health = source_store.all_health(app.conn)
    for name, (_, expected) in FAILURES.items():
        assert results[name].status is FetchOutcome.ERROR, name
        assert results[name].error.startswith(f"{name}: "), results[name].error
        assert expected in results[name].error, results[name].error
        assert health[name].consecutive_failures == 1
        assert health[name].last_error == results[name].error
    assert health["good"].last_error is None and health["good"].items_last_run == results["good"].new
    # a redirect loop stops at the configured bound, not before or long after
    assert len(server.hits(paths["redirect-loop"])) == 6

    collect(app, "status-500")
    assert source_store.get_health(app.conn, "status-500", kind).consecutive_failures == 2


def test_retry_after_within_the_cap_is_waited_and_retried(server, make_app):
    server.routes["/busy.xml"] = Route(b"busy", status=503, headers={"Retry-After": "0"})
    app = make_app([feed("busy", server.url("/busy.xml"))])
    result = collect(app).results[0]
    assert result.status is FetchOutcome.ERROR and "HTTP 503" in result.error
    assert len(server.hits("/busy.xml")) == 3  # the first try and two retries


def test_a_crash_while_storing_a_source_leaves_nothing_of_it(server, make_app, monkeypatch):
    server.routes["/openai.xml"] = Route(fixture_bytes(OPENAI), RSS)
    server.routes["/deepmind.xml"] = Route(fixture_bytes(DEEPMIND), RSS)
    app = make_app([feed("openai", server.url("/openai.xml")), feed("deepmind", server.url("/deepmind.xml"))])
    real_upsert = item_store.upsert_entries

    def upsert_then_crash(conn, source_id, entries, now, extra_mentions=()):
        count = real_upsert(conn, source_id, entries, now, extra_mentions)
        if source_id == "openai":
            raise RuntimeError("disk on fire")
        return count

    monkeypatch.setattr(item_store, "upsert_entries", upsert_then_crash)
    with pytest.raises(RuntimeError):
        collect(app, "openai")
    assert item_store.list_items(app.conn, source_id="openai") == []
    assert app.conn.execute("SELECT count(*) FROM mentions WHERE source_id = 'openai'").fetchone()[0] == 0
    assert collect(app, "deepmind").results[0].new > 50


def test_curator_edits_survive_a_refetch(server, make_app):
    body = fixture_bytes(DEEPMIND)
    server.routes["/deepmind.xml"] = Route(body, RSS)
    app = make_app([feed("deepmind", server.url("/deepmind.xml"))], clock=fixed_clock(NOW))
    collect(app)
    item = item_store.list_items(app.conn)[0]
    with transaction(app.conn):
        item_store.set_status(app.conn, item.id, ItemStatus.APPROVED, NOW)
        item_store.annotate(app.conn, item.id, NOW, commentary="연산량에 따른 최적 Vocabulary 크기.",
                            tags=["scaling-law", "토크나이저"], title_override="한국어 제목")

    # the lab edits its post: new title, so the feed's ETag changes and the item is refreshed
    server.routes["/deepmind.xml"] = Route(body.replace(item.title.encode(), b"An edited title", 1), RSS)
    assert collect(app).results[0].status is FetchOutcome.OK
    after = item_store.get_item(app.conn, item.id)
    assert after.title == "An edited title"
    assert after.display_title == "한국어 제목"
    assert after.status is ItemStatus.APPROVED
    assert after.commentary == "연산량에 따른 최적 Vocabulary 크기."
    assert after.tags == ("scaling-law", "토크나이저")


def x_post_linking(paper_url: str) -> bytes:
    """The real X API v2 user-posts payload with one post's t.co link pointed at a paper:
    the shape is the recorded one, only the link target is ours."""
    payload = json.loads(fixture_bytes("x/x-api-v2-users-783214-tweets-2022-10.json"))
    post = payload["data"][0]
    short = "https://t.co/3OQ4eGsUku"
    start = post["text"].index(short)
    post["entities"] = {"urls": [{"start": start, "end": start + len(short), "url": short,
                                  "expanded_url": paper_url, "display_url": "arxiv.org/abs/2407.13623"}]}
    return json.dumps(payload).encode()


def test_one_paper_from_two_listings_and_an_x_post_is_one_item_with_three_mentions(server, make_app):
    listing = fixture_bytes(LISTING)
    server.routes["/rss/cs.CL"] = Route(listing, RSS)
    server.routes["/rss/cs.LG"] = Route(listing, RSS)  # a cross-listed paper appears in both
    server.routes["/2/users/by/username/Twitter"] = Route(
        b'{"data": {"id": "783214", "name": "Twitter", "username": "Twitter"}}', "application/json")
    server.routes["/2/users/783214/tweets"] = Route(
        x_post_linking("https://arxiv.org/abs/2407.13623v1?utm_source=x"), "application/json")
    app = make_app([
        {"id": "arxiv-cl", "kind": "arxiv", "categories": ["cs.CL"], "url": server.url("/rss/")},
        {"id": "arxiv-lg", "kind": "arxiv", "categories": ["cs.LG"], "url": server.url("/rss/")},
        {"id": "x-twitter", "kind": "x", "handle": "Twitter", "api_url": server.url("/2")},
    ], environ={"X_BEARER_TOKEN": "secret"}, clock=fixed_clock(NOW + timedelta(hours=1)))

    report = collect(app)
    assert {r.status for r in report.results} == {FetchOutcome.OK}, report.as_json()
    paper = item_store.get_item_by_key(app.conn, "arxiv:2407.13623")
    assert paper.title == "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies"
    assert sorted(m.source_id for m in paper.mentions) == ["arxiv-cl", "arxiv-lg", "x-twitter"]
    x_mention = next(m for m in paper.mentions if m.source_id == "x-twitter")
    assert x_mention.url == "https://x.com/Twitter/status/1577730467436138524"
    # the X post is an item of its own too
    assert item_store.get_item_by_key(app.conn, "x:1577730467436138524") is not None
    assert server.hits("/2/users/783214/tweets")[0].headers["Authorization"] == "Bearer secret"


def test_arxiv_requests_are_spaced_by_the_configured_interval(server, make_app):
    listing = fixture_bytes(LISTING)
    for category in ("cs.CL", "cs.LG", "cs.AI"):
        server.routes[f"/rss/{category}"] = Route(listing, RSS)
    app = make_app([{"id": f"arxiv-{c[3:].lower()}", "kind": "arxiv", "categories": [c],
                     "url": server.url("/rss/")} for c in ("cs.CL", "cs.LG", "cs.AI")],
                   arxiv_interval=0.5, concurrency=8, per_host=8)
    collect(app)
    arrivals = sorted(request.at for request in server.requests)
    assert len(arrivals) == 3
    # spaced start to start by the client; the first request's connection setup may eat a little
    assert all(later - earlier >= 0.4 for earlier, later in zip(arrivals, arrivals[1:])), arrivals


HF_JUNE = "hf_daily_papers/hf-daily-papers-api-2026-06-12-limit30.json"
JSON = "application/json; charset=utf-8"


def hf_page_featuring(paper_id: str, title: str, *, upvotes: int) -> bytes:
    """The real June Daily Papers answer with its first entry pointed at another arXiv paper:
    the shape and the other 29 entries are the recorded ones; id, title, day and votes are ours."""
    records = json.loads(fixture_bytes(HF_JUNE))
    paper = records[0]["paper"]
    paper.update(id=paper_id, title=title, upvotes=upvotes, submittedOnDailyAt="2024-07-19T00:00:00.000Z")
    return json.dumps(records).encode()


def test_arxiv_hf_and_a_bluesky_post_are_one_paper_with_three_mentions_and_its_upvotes(server, tmp_path):
    title = "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies"
    server.routes["/rss/cs.CL"] = Route(fixture_bytes(LISTING), RSS)
    server.routes["/api/daily_papers"] = Route(hf_page_featuring("2407.13623", title, upvotes=123), JSON)
    post = bluesky_post_linking("https://huggingface.co/papers/2407.13623", "huggingface.co/papers/2407...")
    server.routes["/xrpc/app.bsky.feed.getAuthorFeed"] = Route(
        json.dumps({"feed": [post], "cursor": "2025-05-02T18:54:37.956Z"}).encode(), JSON)
    write_config(tmp_path / "sources.yaml", sources=[
        {"id": "arxiv-cl", "kind": "arxiv", "categories": ["cs.CL"], "url": server.url("/rss/")},
        {"id": "hf-daily-papers", "kind": "hf_papers", "url": server.url("/api/daily_papers")},
        {"id": "bsky-lab", "kind": "bluesky", "handle": "chriskenny.bsky.social", "api_url": server.url("/xrpc")},
    ])
    # HF first: the paper is its item before the listing (and the post) join it
    first = json.loads(newsletter(tmp_path, "collect", "--source", "hf-daily-papers", "--json").stdout)
    assert first["sources"][0]["status"] == "ok" and first["new"] == 30
    after = newsletter(tmp_path, "collect", "--json")
    assert {s["id"]: s["status"] for s in json.loads(after.stdout)["sources"]} == {
        "arxiv-cl": "ok", "hf-daily-papers": "not_modified", "bsky-lab": "ok"}, after.stderr

    items = json.loads(newsletter(tmp_path, "items", "--json").stdout)
    (paper,) = [item for item in items if item["key"] == "arxiv:2407.13623"]
    assert paper["kind"] == "paper" and paper["source"] == "hf-daily-papers" and paper["title"] == title
    assert paper["url"] == "https://arxiv.org/abs/2407.13623"
    mentions = {m["source"]: m for m in paper["mentions"]}
    assert sorted(mentions) == ["arxiv-cl", "bsky-lab", "hf-daily-papers"]
    assert mentions["hf-daily-papers"] == {
        "source": "hf-daily-papers", "url": "https://huggingface.co/papers/2407.13623",
        "seen": mentions["hf-daily-papers"]["seen"], "upvotes": 123, "comments": 2,
        "submitter": "Rafal Kocielnik", "organization": "California institute of technology"}
    assert mentions["bsky-lab"]["url"] == "https://bsky.app/profile/chriskenny.bsky.social/post/3lo7irc7njk2p"
    assert "upvotes" not in mentions["arxiv-cl"] and "upvotes" not in mentions["bsky-lab"]
    (skeet,) = [item for item in items if item["kind"] == "bluesky_post"]
    assert skeet["summary"].startswith("어휘 크기에 대한 스케일링 법칙 논문")

    health = {s["id"]: s for s in json.loads(newsletter(tmp_path, "sources", "--json").stdout)}
    assert health["hf-daily-papers"]["kind"] == "hf_papers" and health["bsky-lab"]["kind"] == "bluesky"


def test_upvotes_are_refreshed_and_the_curators_fields_never_are(server, make_app):
    title = "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies"
    server.routes["/api/daily_papers"] = Route(hf_page_featuring("2407.13623", title, upvotes=12), JSON)
    app = make_app([{"id": "hf-daily-papers", "kind": "hf_papers", "url": server.url("/api/daily_papers")}],
                   clock=fixed_clock(NOW))
    collect(app)
    paper = item_store.get_item_by_key(app.conn, "arxiv:2407.13623")
    with transaction(app.conn):
        item_store.annotate(app.conn, paper.id, NOW, commentary="커뮤니티 반응이 뜨거운 논문.", tags=["scaling-law"])

    server.routes["/api/daily_papers"] = Route(hf_page_featuring("2407.13623", "An edited title", upvotes=123), JSON)
    assert collect(app).results[0].status is FetchOutcome.OK
    after = item_store.get_item(app.conn, paper.id)
    (mention,) = after.mentions
    assert mention.upvotes == 123 and mention.meta["comments"] == 2
    assert after.commentary == "커뮤니티 반응이 뜨거운 논문." and after.tags == ("scaling-law",)
    assert after.title == "An edited title"  # HF brought it, so HF's wording is the source's own
