"""Hugging Face Daily Papers: golden tests on two real API answers, bad entries skipped with a
note, collect() against the loopback server (conditional GET), and HF ▲N in the queue."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from newsletter.collect.hf_papers import parse_daily_papers
from newsletter.demo.server import Route
from newsletter.errors import ParseError
from newsletter.model import FetchOutcome, ItemKind
from newsletter.store import items as item_store
from newsletter.store import transaction
from newsletter.store.items import upsert_entries
from support.apps import item_id
from support.clock import MORNING
from support.fixtures import fixture_bytes
from support.web import login

JUNE = "hf_daily_papers/hf-daily-papers-api-2026-06-12-limit30.json"
JULY = "hf_daily_papers/hf-daily-papers-api-2026-07-13-limit25-mixed-days.json"
JSON = "application/json; charset=utf-8"
UTC = timezone.utc


def listing(name: str = JUNE):
    return parse_daily_papers(fixture_bytes(name), source_id="hf-daily-papers")


def by_key(found):
    return {entry.key: entry for entry in found.entries}


def test_june_page_golden_first_entry():
    found = listing()
    assert len(found.entries) == 30 and found.note == ""
    first = found.entries[0]
    assert first.key == "arxiv:2606.00467"
    assert first.kind is ItemKind.PAPER
    assert first.url == "https://arxiv.org/abs/2606.00467"  # the item is the arXiv paper ...
    assert first.mention_url == "https://huggingface.co/papers/2606.00467"  # ... HF's page is its mention
    assert first.title == ("On the Limits of LLM Adaptability: Impact of Model-Internalized Priors on "
                           "Annotation Task Performance")
    assert first.authors[:3] == ("Etienne Casanova", "Rafal Kocielnik", "R. Michael Alvarez")
    assert first.summary_text.startswith("Large Language Models (LLMs) are increasingly used for zero-shot annotation")
    assert first.summary_html.startswith("<p>Large Language Models")
    assert first.mention_meta == {"upvotes": 0, "comments": 2, "submitter": "Rafal Kocielnik",
                                  "organization": "California institute of technology", "featured": "2026-06-12"}
    # dated the day HF featured it; arXiv's own date is kept beside
    assert first.published == datetime(2026, 6, 12, tzinfo=UTC)
    assert first.meta["arxiv_published"] == "2026-05-30T00:00:00Z"
    assert first.meta["pdf_url"] == "https://arxiv.org/pdf/2606.00467"


def test_june_page_most_upvoted_and_an_entry_without_organization():
    papers = by_key(listing())
    top = papers["arxiv:2606.13681"]
    assert top.mention_meta["upvotes"] == 118
    assert top.mention_meta["organization"] == "Massachusetts Institute of Technology"
    assert papers["arxiv:2606.13392"].mention_meta["upvotes"] == 103
    assert papers["arxiv:2606.13392"].mention_meta["organization"] == "MiniMax"
    second = papers["arxiv:2606.12730"]
    assert second.mention_meta["upvotes"] == 5 and second.mention_meta["comments"] == 3
    assert "organization" not in second.mention_meta  # HF named none: nothing made up


def test_july_page_mixes_two_featured_days():
    found = listing(JULY)
    assert len(found.entries) == 25
    days = sorted({entry.mention_meta["featured"] for entry in found.entries})
    assert days == ["2026-07-10", "2026-07-13"]
    first = found.entries[0]
    assert first.key == "arxiv:2607.07673"
    assert first.title.startswith("MedPMC: A Systematic Framework for Scaling High-Fidelity Medical Multimodal")
    assert first.mention_meta["submitter"] == "Hyunjae Kim"
    assert first.mention_meta["organization"] == "Yale-BIDS-Chen-Lab"
    naver = by_key(found)["arxiv:2607.06957"]
    assert naver.mention_meta["organization"] == "Navercorp" and naver.mention_meta["upvotes"] == 3


def test_entries_without_an_arxiv_id_or_malformed_are_skipped_with_a_note():
    records = json.loads(fixture_bytes(JUNE))[:3]
    records[1]["paper"]["id"] = "hf-native-7f3a"  # a paper HF hosts itself: no arXiv paper to merge with
    records.append({"paper": "잘못된 항목"})
    records[2]["publishedAt"] = records[2]["paper"]["publishedAt"] = "0001-01-01T00:00:00+05:00"  # no UTC
    found = parse_daily_papers(json.dumps(records).encode(), source_id="hf")
    assert [entry.key for entry in found.entries] == ["arxiv:2606.00467", "arxiv:2606.13594"]
    assert found.note == "1 entries without an arXiv id skipped; 1 malformed entries skipped"


@pytest.mark.parametrize("content, message", [
    (b"", "not valid JSON"),
    (b"<html>rate limited</html>", "not valid JSON"),
    (b'{"error": "Invalid date format"}', "Hugging Face API error: Invalid date format"),
    (b'{"papers": []}', "expected a JSON list"),
])
def test_garbage_is_a_parse_error(content, message):
    with pytest.raises(ParseError) as caught:
        parse_daily_papers(content, source_id="hf")
    assert message in str(caught.value) and caught.value.source_id == "hf"


def test_an_empty_day_is_a_note_not_an_error():
    assert parse_daily_papers(b"[]", source_id="hf").note == "no papers"


def test_collect_is_conditional_and_the_source_url_defaults_to_the_hf_api(server, make_app):
    server.routes["/api/daily_papers"] = Route(fixture_bytes(JUNE), JSON)
    app = make_app([{"id": "hf-daily-papers", "kind": "hf_papers", "url": server.url("/api/daily_papers")}])
    first = asyncio.run(app.collect(()))
    assert first.results[0].status is FetchOutcome.OK and first.new == 30
    second = asyncio.run(app.collect(()))
    assert second.results[0].status is FetchOutcome.NOT_MODIFIED and second.new == 0
    assert server.hits("/api/daily_papers")[1].headers["If-None-Match"].startswith('"')
    paper = item_store.get_item_by_key(app.conn, "arxiv:2606.13681")
    assert paper.kind is ItemKind.PAPER and paper.mentions[0].upvotes == 118
    assert app.settings.source("hf-daily-papers").section == "papers"

    default = make_app([{"id": "hf", "kind": "hf_papers"}]).settings.source("hf")
    assert default.url == "https://huggingface.co/api/daily_papers"


def test_queue_rows_show_hf_upvotes_with_an_accessible_label(editor):
    ed = editor()
    with transaction(ed.app.conn):
        upsert_entries(ed.app.conn, "hf-daily-papers", listing().entries, MORNING)
    with ed.client() as client:
        login(client)
        queue = client.get("/queue?section=papers").text
        item_page = client.get(f"/items/{item_id(ed.reader(), 'arxiv:2606.13681')}").text
    assert ('<span class="hf" data-role="hf-upvotes" title="Hugging Face 추천 118" '
            'aria-label="Hugging Face 추천 118">HF ▲118</span>') in queue
    assert "HF ▲0" in queue  # no votes yet is still news: HF featured it
    assert "Hugging Face ▲118 · 댓글 " in queue and "Massachusetts Institute of Technology" in queue
    assert "HF ▲118" in item_page
    # a paper HF never listed shows no badge
    listed_alone = item_id(ed.reader(), "arxiv:2407.13623")
    assert f'id="item-{listed_alone}"' in queue
    row = queue.split(f'id="item-{listed_alone}"', 1)[1].split("</article>", 1)[0]
    assert "HF ▲" not in row


def test_a_database_from_before_migration_10_keeps_its_mentions_and_takes_bluesky_posts(tmp_path):
    import sqlite3

    from newsletter.store.db import _statements, connect
    from newsletter.store.schema import MIGRATIONS
    from support.fixtures import paper_entries

    path = tmp_path / "v9.db"
    old = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:9]:  # the file as the program before this one left it
        if callable(migration):
            migration(old, _statements)
        else:
            for statement in _statements(migration):
                old.execute(statement)
    old.execute("PRAGMA user_version = 9")
    paper = paper_entries()[0]
    old.execute("INSERT INTO items (key, kind, source_id, url, title, published, first_seen, refreshed) "
                "VALUES (?, 'paper', 'arxiv-ai', ?, ?, '2024-07-19T00:00:00Z', '2024-07-19T00:00:00Z', "
                "'2024-07-19T00:00:00Z')", (paper.key, paper.url, paper.title))
    old.execute("INSERT INTO mentions VALUES (?, 'arxiv-ai', ?, '2024-07-19T00:00:00Z', '2024-07-19T00:00:00Z')",
                (paper.key, paper.url))
    old.close()

    conn = connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10
        (mention,) = item_store.get_item_by_key(conn, paper.key).mentions
        assert mention.meta == {} and mention.upvotes is None
        with transaction(conn):
            upsert_entries(conn, "hf-daily-papers", listing().entries[:1], MORNING)
            upsert_entries(conn, "bsky-lab", [replace(paper, key="https://bsky.app/profile/a.bsky.social/post/3k",
                                                      kind=ItemKind.BLUESKY_POST, title="한국어 게시물")], MORNING)
        assert item_store.get_item_by_key(conn, "https://bsky.app/profile/a.bsky.social/post/3k").kind \
            is ItemKind.BLUESKY_POST
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
