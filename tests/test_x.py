"""X collector: API v2 parsing on real payloads, oEmbed snapshots, and collect()/resolve_post()
against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from newsletter.collect.http import HttpClient
from newsletter.collect.x import (
    NotAnXPost, collect, parse_oembed, parse_posts, parse_user, resolve_post, snowflake_time,
)
from newsletter.config import parse_settings
from newsletter.errors import FetchError, ParseError, SourceError
from newsletter.model import ItemKind, SourceHealth

FIXTURES = Path(__file__).parent / "fixtures" / "x"
UTC = timezone.utc


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def jsonl_line(name: str, index: int) -> bytes:
    return fixture(name).splitlines()[index]


def by_key(listing):
    return {entry.key: entry for entry in listing.entries}


# --- parse_posts: golden tests on real payloads -------------------------------------------


def test_user_tweets_minimal_payload():
    listing = parse_posts(fixture("x-api-v2-users-783214-tweets-2022-10.json"),
                          source_id="x-twitter", handle="Twitter")
    assert [e.key for e in listing.entries] == ["x:1577730467436138524", "x:1565318587736285184"]
    first = listing.entries[0]
    assert first.kind is ItemKind.X_POST
    assert first.url == "https://x.com/Twitter/status/1577730467436138524"
    assert first.title == "whoa, it works"
    assert first.authors == ("Twitter (@Twitter)",)
    # No created_at in this payload: the time comes from the snowflake id.
    assert first.published == datetime(2022, 10, 5, 18, 40, 30, 908000, tzinfo=UTC)
    # No entities either: t.co links stay as they are and are not offered as links.
    assert "https://t.co/3OQ4eGsUku" in first.summary_text
    assert first.links == ()
    assert first.meta["post_id"] == "1577730467436138524"
    assert first.meta["handle"] == "Twitter"
    assert "metrics" not in first.meta
    assert listing.state == {"since_id": "1577730467436138524"}  # meta.newest_id
    assert listing.note == "more than 2 posts; older ones not fetched"  # meta.next_token


def test_expanded_url_and_author_from_includes():
    entry = parse_posts(jsonl_line("twarc2-x-api-v2-many_urls.jsonl", 0), source_id="s",
                        handle="someone", include_replies=True).entries[0]
    assert entry.key == "x:1610692575752601600"
    assert entry.url == "https://x.com/uiuxadrian/status/1610692575752601600"
    assert entry.authors == ("UI Adrian (@uiuxadrian)",)
    assert entry.published == datetime(2023, 1, 4, 17, 40, 9, tzinfo=UTC)
    target = "https://uiadrian.gumroad.com/l/web-design-guide/?offer_code=twk0uc9f7"
    assert "t.co" not in entry.summary_text
    assert entry.summary_text.endswith("Grab it 35% OFF this week only👇\n" + target)
    assert entry.links == (target,)
    assert f'<a href="{target}"' in entry.summary_html
    assert "uiadrian.gumroad.com/l/web-design-g…</a>" in entry.summary_html  # display_url
    assert entry.title == ("P.S. If you're interested in learning web design - "
                           "check out my latest web design ebook")
    assert entry.meta["reply_to_id"] == "1610623087061471232"
    assert entry.meta["metrics"] == {"retweet_count": 2, "reply_count": 1, "like_count": 13,
                                     "quote_count": 0}
    assert entry.meta["lang"] == "en"


def test_media_links_removed_and_quoted_post_kept():
    # The filtered stream sends one post per line, "data" as an object.
    listing = parse_posts(jsonl_line("twarc2-x-api-v2-streaming_output_with_error.jsonl", 0),
                          source_id="s", handle="x")
    entry = listing.entries[0]
    assert entry.key == "x:1377650090978992134"
    assert entry.authors == ("Endangered Species (@blackheart_265)",)
    # .../photo/1 (the post's own picture) is gone; the quoted post's URL is expanded.
    assert entry.summary_text == "Fury https://twitter.com/Manie_DS/status/1377640162566496258"
    assert "photo" not in entry.summary_html and "t.co" not in entry.summary_html
    assert entry.links == ()  # points at X only
    assert entry.meta["quoted_id"] == "1377640162566496258"


def test_video_and_self_links_removed():
    video = parse_posts(fixture("twarc2-x-api-v2-media_tweet.jsonl"), source_id="s",
                        handle="x").entries[0]
    assert video.summary_text == "She's GOING with it! 🐍"
    assert video.summary_html == "She's GOING with it! 🐍"
    assert video.authors == ("Igor Brigadir 🇺🇦 @igor@mastodon.social (@IgorBrigadir)",)
    edited = parse_posts(fixture("twarc2-x-api-v2-edited.jsonl"), source_id="s", handle="x").entries[0]
    assert edited.summary_text == "hey :)"  # its only link was twitter.com/i/web/status/<itself>


def test_outside_links_offered_for_mentions():
    entry = parse_posts(jsonl_line("twarc2-x-api-v2-streaming_output_with_error.jsonl", 2),
                        source_id="s", handle="x").entries[0]
    assert entry.links == ("https://www.instagram.com/p/CNIQbqSrZRL/?igshid=je3jmv61ndpu",)


def test_html_escaped_text_is_unescaped_once():
    listing = parse_posts(fixture("x-api-v2-home-timeline-reverse-chronological.json"),
                          source_id="s", handle="x")
    entry = by_key(listing)["x:1577678849445355527"]
    assert entry.summary_text == "NYC < London (weather this week)"
    assert entry.summary_html == "NYC &lt; London (weather this week)"


def test_replies_and_reposts_excluded_by_default_and_kept_when_asked():
    content = fixture("x-api-v2-home-timeline-reverse-chronological.json")
    everything = parse_posts(content, source_id="s", handle="x", include_replies=True,
                             include_reposts=True)
    assert len(everything.entries) == 98
    default = parse_posts(content, source_id="s", handle="x")
    assert len(default.entries) == 98 - 29 - 2
    assert default.note.startswith("2 replies skipped; 29 reposts skipped; ")
    assert not any(e.summary_text.startswith(("RT @", "@")) for e in default.entries)
    with_replies = parse_posts(content, source_id="s", handle="x", include_replies=True)
    assert len(with_replies.entries) == 98 - 29
    assert "x:1578457029592899584" in by_key(with_replies)  # "@TwitterDev being unable to ..."
    with_reposts = parse_posts(content, source_id="s", handle="x", include_reposts=True)
    assert len(with_reposts.entries) == 98 - 2
    # Skipped posts still move since_id on, so they do not come back next run.
    assert default.state == {"since_id": "1578466218075312129"}


def test_references_decide_when_the_payload_has_them():
    line = jsonl_line("twarc2-x-api-v2-two_tweets.jsonl", 0)
    assert parse_posts(line, source_id="s", handle="x").entries == ()
    kept = parse_posts(line, source_id="s", handle="x", include_reposts=True).entries[0]
    assert kept.meta["repost_of_id"] == "1391677057810288641"
    stream = fixture("twarc2-x-api-v2-streaming_output_with_error.jsonl").splitlines()[:7]
    replies = [parse_posts(l, source_id="s", handle="x").entries == () for l in stream]
    assert replies == [False, True, False, False, True, True, False]


def test_empty_result_is_a_valid_listing():
    listing = parse_posts(b'{"meta": {"result_count": 0}}', source_id="s", handle="x")
    assert listing.entries == () and listing.state == {}
    assert listing.note == "no new posts"


def test_truncated_jsonl_line_is_a_parse_error():
    last = fixture("twarc2-x-api-v2-streaming_output_with_error.jsonl").splitlines()[-1]
    with pytest.raises(ParseError) as caught:
        parse_posts(last, source_id="x-dogs", handle="x")
    assert caught.value.source_id == "x-dogs"
    assert "not valid JSON" in str(caught.value)


def test_api_error_body_is_a_parse_error_with_the_message():
    body = json.dumps({"errors": [{
        "value": "nosuchuser123", "detail": "Could not find user with username: [nosuchuser123].",
        "title": "Not Found Error", "resource_type": "user", "parameter": "username",
        "resource_id": "nosuchuser123", "type": "https://api.twitter.com/2/problems/resource-not-found",
    }]}).encode()
    with pytest.raises(ParseError, match=r"Could not find user with username: \[nosuchuser123\]"):
        parse_user(body, source_id="x-nobody")
    with pytest.raises(ParseError, match="Not Found Error"):
        parse_posts(body, source_id="x-nobody", handle="nosuchuser123")


def test_parse_user():
    body = b'{"data": {"id": "33836629", "name": "Andrej Karpathy", "username": "karpathy"}}'
    assert parse_user(body, source_id="s") == {"id": "33836629", "name": "Andrej Karpathy",
                                               "username": "karpathy"}


def test_snowflake_time():
    assert snowflake_time("1814339947722158085") == datetime(2024, 7, 19, 16, 42, 7, tzinfo=UTC)


# --- oEmbed -----------------------------------------------------------------------------


def assert_no_script(entry):
    for value in (entry.title, entry.summary_html, entry.summary_text, entry.url, *entry.authors,
                  *entry.links, json.dumps(dict(entry.meta), ensure_ascii=False)):
        assert "<script" not in value.lower() and "widgets.js" not in value


def test_parse_oembed_snapshot():
    entry = parse_oembed(fixture("oembed-example.json"),
                         url="https://x.com/karpathy/status/1814339947722158085")
    assert entry.key == "x:1814339947722158085"
    assert entry.kind is ItemKind.X_POST
    assert entry.url == "https://x.com/karpathy/status/1814339947722158085"
    assert entry.authors == ("Andrej Karpathy (@karpathy)",)
    assert entry.published == datetime(2024, 7, 19, tzinfo=UTC)
    assert entry.summary_text == (
        "Tokenizers are still the most underrated part of LLMs. The same sentence in 한국어 costs "
        "2-3x the tokens of English, so Korean users pay more & get less context.\n\n"
        "Notes + code: https://t.co/Xk3vQ9LmPa h/t @huggingface #LLM")
    assert entry.title.startswith("Tokenizers are still the most underrated part of LLMs.")
    assert entry.title.endswith("…") and len(entry.title) <= 120
    assert "한국어" in entry.summary_html and "&amp; get less" in entry.summary_html
    assert "pic.twitter.com" not in entry.summary_html
    assert '<a href="https://twitter.com/huggingface"' in entry.summary_html  # ref_src dropped
    assert entry.meta["lang"] == "en" and entry.meta["handle"] == "karpathy"
    assert_no_script(entry)


def test_parse_oembed_drops_the_widget_script():
    doc = json.loads(fixture("oembed-example.json"))
    doc["html"] += ('<script async src="https://platform.twitter.com/widgets.js" '
                    'charset="utf-8">alert(1)</script>\n')
    entry = parse_oembed(json.dumps(doc).encode(), url=doc["url"])
    assert_no_script(entry)
    assert "alert" not in entry.summary_text


def test_parse_oembed_rejects_junk():
    with pytest.raises(ParseError):
        parse_oembed(b"<html>not json</html>", url="https://x.com/a/status/1")
    with pytest.raises(ParseError):
        parse_oembed(b'{"html": "<div>no post</div>"}', url="https://x.com/a/status/1")


# --- collect() and resolve_post() against a loopback server -------------------------------


class Recorder:
    """A loopback HTTP server: routes path -> (status, body), records every request."""

    def __init__(self, routes: dict[str, tuple[int, bytes]]):
        self.routes = routes
        self.requests: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                recorder.requests.append({"path": parts.path, "query": parse_qs(parts.query),
                                          "headers": dict(self.headers)})
                status, body = recorder.routes.get(parts.path, (404, b'{"title": "Not Found"}'))
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def hits(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]


def make_settings(base: str, **source):
    return parse_settings({
        "collect": {"oembed_url": f"{base}/oembed"},
        "sources": [{"id": "x-twitter", "kind": "x", "handle": "Twitter", "api_url": f"{base}/2",
                     "max_results": 10, **source}],
    }, environ={"X_BEARER_TOKEN": "test-token"})


USER = b'{"data": {"id": "783214", "name": "Twitter", "username": "Twitter"}}'
NOW = datetime(2022, 10, 8, tzinfo=UTC)


def test_collect_against_loopback_server():
    routes = {"/2/users/by/username/Twitter": (200, USER),
              "/2/users/783214/tweets": (200, fixture("x-api-v2-users-783214-tweets-2022-10.json"))}
    with Recorder(routes) as server:
        settings = make_settings(server.base)
        source = settings.source("x-twitter")

        async def run():
            async with HttpClient(settings.collect, settings.newsletter.contact) as http:
                first = await collect(source, http, SourceHealth("x-twitter", "x"), settings, NOW)
                routes["/2/users/783214/tweets"] = (200, b'{"meta": {"result_count": 0}}')
                health = SourceHealth("x-twitter", "x", state=first.listing.state)
                second = await collect(source, http, health, settings, NOW)
                return first, second

        first, second = asyncio.run(run())

    assert [e.key for e in first.listing.entries] == ["x:1577730467436138524", "x:1565318587736285184"]
    assert first.listing.state["user_id"] == "783214"
    assert first.listing.state["since_id"] == "1577730467436138524"
    # Nothing new: the old since_id is kept.
    assert second.listing.entries == ()
    assert second.listing.state["since_id"] == "1577730467436138524"
    assert second.listing.state["user_id"] == "783214"

    assert len(server.hits("/2/users/by/username/Twitter")) == 1  # user id cached after that
    timeline = server.hits("/2/users/783214/tweets")
    assert len(timeline) == 2
    for request in server.requests:
        assert request["headers"]["Authorization"] == "Bearer test-token"
    q1, q2 = timeline[0]["query"], timeline[1]["query"]
    assert q1["exclude"] == ["replies,retweets"]
    assert q1["max_results"] == ["10"]
    assert q1["expansions"] == ["author_id"]
    assert set(q1["tweet.fields"][0].split(",")) == {
        "created_at", "entities", "referenced_tweets", "author_id", "lang", "public_metrics"}
    assert "since_id" not in q1
    assert q2["since_id"] == ["1577730467436138524"]


def test_collect_includes_reposts_when_configured_and_reports_401():
    unauthorized = json.dumps({"title": "Unauthorized", "type": "about:blank", "status": 401,
                               "detail": "Your access level cannot read this endpoint"}).encode()
    routes = {"/2/users/783214/tweets": (200, b'{"meta": {"result_count": 0}}')}
    with Recorder(routes) as server:
        settings = make_settings(server.base, include_reposts=True)
        source = settings.source("x-twitter")
        health = SourceHealth("x-twitter", "x", state={"user_id": "783214", "since_id": "5"})

        async def run(health):
            async with HttpClient(settings.collect, settings.newsletter.contact) as http:
                return await collect(source, http, health, settings, NOW)

        fetched = asyncio.run(run(health))
        assert fetched.listing.state == {"user_id": "783214", "since_id": "5", "handle": "Twitter"}
        assert server.hits("/2/users/783214/tweets")[0]["query"]["exclude"] == ["replies"]
        assert not server.hits("/2/users/by/username/Twitter")

        # A handle changed in sources.yaml invalidates the cached id.
        moved = SourceHealth("x-twitter", "x",
                             state={"user_id": "1", "handle": "OldName", "since_id": "7"})
        routes["/2/users/by/username/Twitter"] = (200, USER)
        assert asyncio.run(run(moved)).listing.state == {"user_id": "783214", "handle": "Twitter"}
        assert len(server.hits("/2/users/by/username/Twitter")) == 1
        assert "since_id" not in server.hits("/2/users/783214/tweets")[-1]["query"]

        routes["/2/users/783214/tweets"] = (401, unauthorized)
        with pytest.raises(FetchError) as caught:
            asyncio.run(run(health))
        assert caught.value.status == 401 and "401" in str(caught.value)
        assert "(Your access level cannot read this endpoint)" in str(caught.value)  # X's reason kept


def test_resolve_post_against_loopback_server():
    with Recorder({"/oembed": (200, fixture("oembed-example.json"))}) as server:
        settings = make_settings(server.base)

        async def run(url):
            async with HttpClient(settings.collect, settings.newsletter.contact) as http:
                return await resolve_post(url, http, settings)

        entry = asyncio.run(run("https://twitter.com/karpathy/status/1814339947722158085?s=20&t=abc"))
        with pytest.raises(NotAnXPost) as caught:
            asyncio.run(run("https://example.com/karpathy/status/1"))

    assert isinstance(caught.value, SourceError) and isinstance(caught.value, ValueError)
    assert "not an X post URL" in str(caught.value)
    assert len(server.requests) == 1  # the bad URL never left the process
    query = server.requests[0]["query"]
    assert query == {"url": ["https://twitter.com/karpathy/status/1814339947722158085"],
                     "omit_script": ["1"], "dnt": ["true"]}
    assert "Authorization" not in server.requests[0]["headers"]
    assert entry.key == "x:1814339947722158085"
    assert entry.url == "https://x.com/karpathy/status/1814339947722158085"
    assert "한국어" in entry.summary_text
    assert_no_script(entry)
