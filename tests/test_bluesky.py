"""Bluesky: getAuthorFeed parsing on a real page, broken facets and embeds skipped with a note,
cursor paging that stops at what was seen, and pasted posts through getPostThread, all against
the loopback server."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import datetime, timezone
from urllib.parse import parse_qs

import pytest

from newsletter.collect.bluesky import (
    MAX_PAGES, NotABlueskyPost, collect, parse_author_feed, parse_thread, resolve_post,
)
from newsletter.collect.http import HttpClient
from newsletter.config import parse_settings
from newsletter.demo.server import Route
from newsletter.errors import ParseError, SourceError
from newsletter.flows.add import add_by_url
from newsletter.model import ItemKind, SourceHealth
from newsletter.store import items as item_store
from newsletter.store import transaction
from newsletter.web.present import seen_lines
from support.fixtures import bluesky_feed, bluesky_post_linking, fixture_bytes, paper_entries

FEED = "bluesky/bsky-getAuthorFeed-chriskenny-2025-05-19.body-derived.json"
HANDLE = "chriskenny.bsky.social"
PAPER = "https://arxiv.org/abs/2407.13623"
JSON = "application/json; charset=utf-8"
NOW = datetime(2025, 5, 19, tzinfo=timezone.utc)


def page(*views, cursor: str = "") -> bytes:
    return json.dumps({"feed": list(views), **({"cursor": cursor} if cursor else {})}).encode()


def by_key(found):
    return {entry.key: entry for entry in found.entries}


# --- parse_author_feed: golden tests on the real page ------------------------------------


def test_real_page_golden_link_card_post():
    found = parse_author_feed(fixture_bytes(FEED), source_id="bsky-chriskenny")
    assert found.cursor == "2024-03-21T23:36:16.378Z"
    assert found.newest == "2025-05-05T01:30:18.253Z"
    # recorded without a filter: replies to others are dropped here too
    assert found.skipped == {"replies": 23, "reposts": 7}
    assert len(found.entries) == 20
    post = by_key(found)["https://bsky.app/profile/chriskenny.bsky.social/post/3lo7irc7njk2p"]
    assert post.kind is ItemKind.BLUESKY_POST
    assert post.url == "https://bsky.app/profile/chriskenny.bsky.social/post/3lo7irc7njk2p"
    assert post.authors == ("Chris Kenny (@chriskenny.bsky.social)",)
    assert post.meta["handle"] == HANDLE and post.meta["author_name"] == "Chris Kenny"
    assert post.meta["post_uri"] == "at://did:plc:wpe35pganb6d4pg4ekmfy6u5/app.bsky.feed.post/3lo7irc7njk2p"
    assert post.title == ("The university accepted my dissertation! So here’s my @typst.app + @quarto.org "
                          "template for Harvard GSAS…")  # the first line, cut at 120 characters
    # the shortened link text is the label; the plain text and the links have the whole address
    assert post.summary_text.endswith("formatting standards:\n\nhttps://github.com/christopherkenny/harvard-diss")
    assert '<a href="https://github.com/christopherkenny/harvard-diss"' in post.summary_html
    assert ">github.com/christopherk...</a>" in post.summary_html
    assert post.links == ("https://github.com/christopherkenny/harvard-diss",)  # facet and card: one link
    assert post.meta["card"]["title"].startswith("GitHub - christopherkenny/harvard-diss")
    assert post.published == datetime(2025, 5, 2, 18, 54, 36, 307000, tzinfo=timezone.utc)
    assert post.meta["metrics"]["like"] >= 0


def test_quotes_keep_the_quoted_post_and_the_quote_with_media_its_link():
    posts = by_key(parse_author_feed(fixture_bytes(FEED), source_id="b"))
    release = posts["https://bsky.app/profile/chriskenny.bsky.social/post/3loagm2phgk2t"]
    assert release.links == ("https://christophertkenny.com/bskyr/news/index.html",)
    assert release.meta["quoted_uri"].endswith("/app.bsky.feed.post/3loacnvvpgn22")


def test_reposts_are_skipped_by_default_and_kept_when_asked():
    reposted = parse_author_feed(fixture_bytes(FEED), source_id="b", include_reposts=True)
    assert reposted.skipped == {"replies": 23}
    assert len(reposted.entries) == 27
    theirs = by_key(reposted)["https://bsky.app/profile/jennybryan.bsky.social/post/3lbufjq6vdc2x"]
    assert theirs.meta["handle"] == "jennybryan.bsky.social"  # a repost is the original author's post


def test_korean_text_with_a_link_after_hangul_uses_byte_offsets():
    found = parse_author_feed(page(bluesky_post_linking(PAPER)), source_id="b")
    post = found.entries[0]
    assert post.summary_text == "어휘 크기에 대한 스케일링 법칙 논문, 꼭 읽어 보세요:\n\nhttps://arxiv.org/abs/2407.13623"
    assert f'<a href="{PAPER}" rel="noopener noreferrer nofollow">arxiv.org/abs/2407...</a>' in post.summary_html
    assert post.title == "어휘 크기에 대한 스케일링 법칙 논문, 꼭 읽어 보세요:"
    assert post.links == (PAPER,) and post.meta["lang"] == "ko"


def test_stops_at_the_newest_post_seen_before():
    found = parse_author_feed(fixture_bytes(FEED), source_id="b", since="2025-05-02T18:54:37.956Z")
    assert found.reached_seen
    assert [e.key.rsplit("/", 1)[1] for e in found.entries] == ["3loagm2phgk2t"]  # newer ones, replies skipped


# --- bad input: skipped with a note, never a failed source -------------------------------


def test_a_malformed_facet_leaves_its_text_and_is_noted():
    broken = bluesky_post_linking(PAPER)
    record = broken["post"]["record"]
    record["facets"][0]["index"]["byteEnd"] = 10_000  # past the end of the text
    record["facets"].append({"features": [{"$type": "app.bsky.richtext.facet#link", "uri": "javascript:alert(1)"}],
                             "index": {"byteStart": 0, "byteEnd": 6}})
    record["facets"].append({"features": [{"$type": "app.bsky.richtext.facet#link", "uri": PAPER}],
                             "index": {"byteStart": 1, "byteEnd": 4}})  # splits the first syllable
    del broken["post"]["embed"]
    del record["embed"]
    found = parse_author_feed(page(broken), source_id="b")
    assert found.skipped == {"malformed link facets": 3}
    post = found.entries[0]
    assert post.links == ()
    assert post.summary_text.endswith("arxiv.org/abs/2407...") and "<a " not in post.summary_html
    assert "javascript" not in post.summary_html


def test_hostile_fields_skip_their_piece_or_their_post_never_the_page():
    good = bluesky_post_linking(PAPER)
    bad_port = bluesky_post_linking("https://arxiv.org:99999/abs/2407.13623")  # port out of range
    bad_host = bluesky_post_linking("https://[x/abs")  # a bracket that is no IPv6 address
    bad_features = bluesky_post_linking(PAPER)
    bad_features["post"]["record"]["facets"][0]["features"] = 1
    odd_reply = bluesky_post_linking(PAPER)
    odd_reply["post"]["record"]["reply"] = {"parent": "zzz", "root": 5}
    out_of_calendar = bluesky_post_linking(PAPER)
    out_of_calendar["post"]["record"]["createdAt"] = "0001-01-01T00:00:00+05:00"  # no UTC for it
    for view, n in ((bad_port, 1), (bad_host, 2), (bad_features, 3), (odd_reply, 4), (out_of_calendar, 5)):
        view["post"]["uri"] = view["post"]["uri"].rsplit("/", 1)[0] + f"/3lbad{n}"
    found = parse_author_feed(page(good, bad_port, bad_host, bad_features, odd_reply, out_of_calendar), source_id="b")
    # kept, with only their broken links dropped; the reply to an unreadable parent counts as a reply
    kept = {entry.url.rsplit("/", 1)[1]: entry for entry in found.entries}
    assert len(kept) == 5 and "3lbad4" not in kept and found.skipped["replies"] == 1
    assert kept["3lbad1"].links == () and kept["3lbad2"].links == () and kept["3lbad3"].links == (PAPER,)
    assert found.skipped["malformed link facets"] == 2 and found.skipped["link cards without a URL"] == 2
    assert kept["3lbad5"].published is not None  # the record's date unusable: the index's date stands in


def test_a_posts_title_reads_the_words_its_links_show():
    entry = parse_author_feed(page(bluesky_post_linking(PAPER, label="이 논문")), source_id="b").entries[0]
    assert entry.title == "어휘 크기에 대한 스케일링 법칙 논문, 꼭 읽어 보세요:"
    short = bluesky_post_linking(PAPER, label="이 논문")
    short["post"]["record"]["text"] = "이 논문 꼭 보세요"
    short["post"]["record"]["facets"][0]["index"] = {"byteStart": 0, "byteEnd": len("이 논문".encode())}
    entry = parse_author_feed(page(short), source_id="b").entries[0]
    assert entry.title == "이 논문 꼭 보세요" and PAPER in entry.summary_text and PAPER in entry.links


def test_a_deleted_quoted_post_and_a_card_without_url_are_noted():
    views = bluesky_feed()["feed"]
    quote = copy.deepcopy(views[21])  # a real quote post
    quote["post"]["embed"]["record"] = {"$type": "app.bsky.embed.record#viewNotFound",
                                        "uri": quote["post"]["embed"]["record"]["uri"], "notFound": True}
    card = copy.deepcopy(views[4])
    del card["post"]["embed"]["external"]["uri"]
    card["post"]["record"]["facets"] = []
    found = parse_author_feed(page(quote, card, {"post": "지워진 게시물"}, {"post": {"uri": "at://x"}}),
                              source_id="b")
    assert found.skipped == {"quoted posts no longer there": 1, "link cards without a URL": 1, "malformed posts": 2}
    assert len(found.entries) == 2
    assert "quoted_uri" not in found.entries[0].meta and found.entries[1].links == ()


@pytest.mark.parametrize("content, message", [
    (b"<html>", "not valid JSON"),
    (b"[]", "expected a JSON object"),
    (b'{"error": "InvalidRequest", "message": "Profile not found"}', "InvalidRequest: Profile not found"),
    (b'{"cursor": "x"}', "no 'feed' list"),
])
def test_garbage_is_a_parse_error(content, message):
    with pytest.raises(ParseError) as caught:
        parse_author_feed(content, source_id="bsky-x")
    assert message in str(caught.value)


# --- collect() and resolve_post() against the loopback server ----------------------------


def settings_for(server, **source):
    return parse_settings({"sources": [{"id": "bsky-chriskenny", "kind": "bluesky", "handle": "ChrisKenny.bsky.social",
                                        "api_url": server.url("/xrpc"), **source}]})


def run_collect(settings, health):
    async def run():
        async with HttpClient(settings.collect, settings.newsletter.contact) as http:
            return await collect(settings.sources[0], http, health, settings, NOW)
    return asyncio.run(run())


def test_first_collect_reads_one_page_and_later_ones_page_back_to_what_was_seen(server):
    path = "/xrpc/app.bsky.feed.getAuthorFeed"
    server.routes[path] = Route(fixture_bytes(FEED), JSON)
    settings = settings_for(server)
    first = run_collect(settings, SourceHealth("bsky-chriskenny", "bluesky"))
    assert len(first.listing.entries) == 20 and first.etag
    assert first.listing.state == {"handle": HANDLE, "newest": "2025-05-05T01:30:18.253Z"}
    assert "more than 1 page(s) of posts; older ones not fetched" in first.listing.note
    query = parse_qs(server.hits(path)[0].query)
    assert query == {"actor": [HANDLE], "filter": ["posts_and_author_threads"], "limit": ["50"]}

    # a long gap: every page is new, so it pages on with the cursor, up to MAX_PAGES
    old = SourceHealth("bsky-chriskenny", "bluesky", state={"handle": HANDLE, "newest": "2020-01-01T00:00:00Z"})
    later = run_collect(settings, old)
    requests = server.hits(path)[1:]
    assert len(requests) == MAX_PAGES
    assert parse_qs(requests[1].query)["cursor"] == ["2024-03-21T23:36:16.378Z"]
    assert len(later.listing.entries) == 20  # the same page served thrice is the same posts
    assert later.listing.state["newest"] == "2025-05-05T01:30:18.253Z"

    # nothing changed since: a conditional request, answered 304
    seen = SourceHealth("bsky-chriskenny", "bluesky", etag=first.etag, state=first.listing.state)
    assert run_collect(settings, seen).not_modified
    assert server.hits(path)[-1].headers["If-None-Match"] == first.etag


def test_resolve_post_snapshots_a_pasted_url_through_get_post_thread(server):
    view = bluesky_post_linking(PAPER)
    thread = {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": view["post"], "replies": []}}
    server.routes["/xrpc/app.bsky.feed.getPostThread"] = Route(json.dumps(thread).encode(), JSON)
    settings = settings_for(server)

    async def run(url):
        async with HttpClient(settings.collect, settings.newsletter.contact) as http:
            return await resolve_post(url, http, settings)

    entry = asyncio.run(run("https://bsky.app/profile/ChrisKenny.bsky.social/post/3lo7irc7njk2p"))
    with pytest.raises(NotABlueskyPost) as caught:
        asyncio.run(run("https://bsky.app/profile/chriskenny.bsky.social"))
    assert isinstance(caught.value, SourceError) and isinstance(caught.value, ValueError)
    (request,) = server.requests
    assert parse_qs(request.query) == {"uri": ["at://chriskenny.bsky.social/app.bsky.feed.post/3lo7irc7njk2p"],
                                       "depth": ["0"], "parentHeight": ["0"]}
    assert entry.key == "https://bsky.app/profile/chriskenny.bsky.social/post/3lo7irc7njk2p"
    assert entry.links == (PAPER,) and "스케일링" in entry.summary_text


def test_a_deleted_pasted_post_is_a_clear_error():
    gone = b'{"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://a/b/c", "notFound": true}}'
    with pytest.raises(ParseError) as caught:
        parse_thread(gone, url="https://bsky.app/profile/a.bsky.social/post/c")
    assert "no such post" in str(caught.value)


def test_add_by_url_makes_one_snapshot_whatever_the_handles_case(server, make_app):
    view = bluesky_post_linking(PAPER)
    thread = {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": view["post"]}}
    server.routes["/xrpc/app.bsky.feed.getPostThread"] = Route(json.dumps(thread).encode(), JSON)
    app = make_app([{"id": "bsky-lab", "kind": "bluesky", "handle": HANDLE, "api_url": server.url("/xrpc")}])

    def add(url):
        return asyncio.run(add_by_url(app.desk, app.settings, app.http, url, added_by="지수"))

    first = add("https://bsky.app/profile/chriskenny.bsky.social/post/3lo7irc7njk2p")
    again = add("https://bsky.app/profile/ChrisKenny.bsky.social/post/3lo7irc7njk2p/")
    assert first.created and not again.created and again.entry.item.id == first.entry.item.id
    assert first.entry.item.kind is ItemKind.BLUESKY_POST and first.entry.section == "bluesky"
    assert len(server.hits("/xrpc/app.bsky.feed.getPostThread")) == 1  # known by its key: no second fetch
    # the post's link is a mention of the paper it points at, collected or not
    with transaction(app.conn):  # the paper arrives later, from a listing: the mention is already there
        item_store.upsert_entries(app.conn, "arxiv-ai", paper_entries(), NOW)
    paper = item_store.get_item_by_key(app.conn, "arxiv:2407.13623")
    assert ("manual", first.entry.item.url) in [(m.source_id, m.url) for m in paper.mentions]
    assert "also on Bluesky: @chriskenny.bsky.social" in seen_lines(paper, app.settings)  # as "also on X" reads
