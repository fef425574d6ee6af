"""The morning's JSON API at real scale: "done for today" and its one-step undo, search that finds
authors and puts the exact title first, and a first collect that does not flood the queue."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from newsletter.demo.server import Route
from newsletter.store import transaction
from newsletter.store.items import upsert_entries
from support.clock import MORNING
from support.fixtures import RSS, fixture_bytes
from support.ranking import DAY_A, DAY_B, candidates, paper_entry
from support.web import login


def _statuses(ed) -> dict[int, str]:
    with ed.reader() as conn:
        return {row[0]: row[1] for row in conn.execute("SELECT id, status FROM items")}


def _papers(ed, day: str = DAY_A) -> None:
    with transaction(ed.app.conn):
        upsert_entries(ed.app.conn, "arxiv-ai", [paper_entry(record, day) for record in candidates(day)], MORNING)


def test_dismiss_a_section_then_undo_restores_exactly_that_set(editor):
    ed = editor()
    _papers(ed)
    with ed.client() as client:
        csrf = login(client)
        headers = {"X-CSRF-Token": csrf}
        papers = client.get("/api/items", params={"status": "new", "section": "papers", "per_page": 200}).json()
        kept = papers["items"][0]["id"]
        assert client.post(f"/api/items/{kept}/approve", headers=headers).status_code == 200
        before = _statuses(ed)

        answer = client.post("/api/queue/dismiss", json={"section": "papers"}, headers=headers)
        assert answer.status_code == 200
        after = _statuses(ed)
        moved = {i for i in after if after[i] != before[i]}
        assert answer.json() == {"dismissed": len(moved)} and len(moved) == papers["total"] - 1
        assert all(before[i] == "new" and after[i] == "dismissed" for i in moved)
        assert after[kept] == "approved"  # never touches an approved item
        assert client.get("/api/items", params={"status": "new", "section": "papers"}).json()["total"] == 0
        assert client.get("/api/items", params={"status": "new", "section": "labs"}).json()["total"] > 0

        # dismissed items stay searchable and can be approved later
        title = next(c["title"] for c in candidates(DAY_A) if c["title"].startswith("Revisiting Reinforcement"))
        found = client.get("/api/items", params={"status": "dismissed", "q": title}).json()["items"]
        assert found and found[0]["title"] == title

        undone = client.post("/api/undo", headers=headers).json()
        assert undone["restored"] == len(moved)
        assert _statuses(ed) == before

        # "before": only what was published before a moment; bad bodies get a clear 400
        cut = (MORNING - timedelta(days=1)).isoformat()
        older = client.post("/api/queue/dismiss", json={"before": cut}, headers=headers).json()["dismissed"]
        with ed.reader() as conn:
            assert older == conn.execute("SELECT count(*) FROM items WHERE status = 'dismissed'").fetchone()[0]
            assert conn.execute("SELECT count(*) FROM items WHERE status = 'dismissed' AND published >= ?",
                                (cut,)).fetchone()[0] == 0
        for body in ({"section": "없는-섹션"}, {"before": "어제"}, {"before": "2025-06-19T09:00:00"}, {"section": 3}):
            assert client.post("/api/queue/dismiss", json=body, headers=headers).status_code == 400, body


def test_dismissed_items_teach_the_ranker_as_weak_negatives(editor):
    from newsletter.flows.rank import history
    ed = editor()
    _papers(ed)
    ed.app.desk.dismiss(None, section="papers")
    labels = {example.label.value for example in history(ed.app.conn, ed.app.settings.newsletter.zone)}
    assert labels == {"weak_negative"}


def test_search_finds_authors_and_puts_the_exact_title_first(editor):
    ed = editor()
    _papers(ed, DAY_A)
    _papers(ed, DAY_B)
    with ed.client() as client:
        login(client)
        hits = client.get("/api/items", params={"q": "Muennighoff", "status": "all"}).json()["items"]
        wanted = [c["id"] for c in candidates(DAY_A) + candidates(DAY_B)
                  if any("Muennighoff" in name for name in c["authors"])]
        if wanted:
            assert {hit["key"] for hit in hits} == {f"arxiv:{paper}" for paper in wanted}
        surname = candidates(DAY_B)[0]["authors"][0].split()[-1]
        by_author = client.get("/api/items", params={"q": surname, "status": "all"}).json()["items"]
        assert any(surname in " ".join(hit["authors"]) for hit in by_author)

        # An exact title comes first, before papers that only mention its words
        title = "Truncated Proximal Policy Optimization"
        ranked = client.get("/api/items", params={"q": title, "status": "all", "per_page": 50}).json()["items"]
        assert ranked[0]["title"] == title
        loose = client.get("/api/items", params={"q": "policy optimization", "status": "all"}).json()["items"]
        assert len(loose) > 1
        assert all({"policy", "optimization"} <= set((h["title"] + " " + h["summary"]).lower().split()) or
                   "optimiz" in (h["title"] + h["summary"]).lower() for h in loose)
        # Korean substrings still found (2-syllable words through LIKE, longer through the index)
        first = ranked[0]["id"]
        csrf = client.get("/queue").text.split('name="csrf-token" content="')[1].split('"')[0]
        client.post(f"/api/items/{first}/annotate", json={"commentary": "대규모언어모델 강화학습의 잘림 기법"},
                    headers={"X-CSRF-Token": csrf})
        for query in ("언어모델", "잘림"):
            found = client.get("/api/items", params={"q": query, "status": "all"}).json()["items"]
            assert [hit["id"] for hit in found] == [first], query


def test_a_first_collect_of_a_600_entry_feed_leaves_only_the_backfill_window_waiting(make_app, server):
    # the real OpenAI News feed: 599 entries back to 2015, the newest on 2025-07-28
    server.routes["/openai.xml"] = Route(fixture_bytes("feeds/openai-news-rss-2025-07-28.xml"), RSS)
    now = datetime(2025, 7, 29, 0, 0, tzinfo=timezone.utc)
    app = make_app([{"id": "openai", "kind": "feed", "url": server.url("/openai.xml")}], clock=lambda: now)
    report = asyncio.run(app.collect())
    assert report.results[0].fetched == 599
    with app.own_connection() as conn:
        rows = conn.execute("SELECT status, published FROM items").fetchall()
    waiting = [row for row in rows if row["status"] == "new"]
    assert len(rows) == 599 and len([r for r in rows if r["status"] == "seen"]) == 599 - len(waiting)
    # the window: 3 days back from the feed's newest entry (2025-07-28), never fewer than the newest 5
    published = sorted((datetime.fromisoformat(r["published"].replace("Z", "+00:00")) for r in rows), reverse=True)
    in_window = [moment for moment in published if moment >= min(now, published[0]) - timedelta(days=3)]
    assert len(waiting) == max(5, len(in_window)) and len(waiting) <= 20
    # seen items are stored, searchable and approvable
    seen_id = app.conn.execute("SELECT id FROM items WHERE status = 'seen' LIMIT 1").fetchone()[0]
    assert app.desk.triage(None, seen_id, "approve").status.value == "approved"
    # a later collect of the same source puts its new entries in the queue as usual
    assert app.conn.execute("SELECT last_success FROM sources WHERE id = 'openai'").fetchone()[0]


def test_the_composer_says_when_the_picks_differ_from_the_draft(editor):
    ed = editor()
    with ed.client() as client:
        csrf = login(client)
        headers = {"X-CSRF-Token": csrf}
        waiting = client.get("/api/items", params={"status": "new", "per_page": 10}).json()["items"]
        client.post(f"/api/items/{waiting[0]['id']}/approve", headers=headers)
        assert client.post("/api/issue/build", json={}, headers=headers).status_code == 201
        assert "선택이 바뀌었습니다" not in client.get("/issue").text
        for item in waiting[1:3]:
            client.post(f"/api/items/{item['id']}/approve", headers=headers)
        page = client.get("/issue").text
        assert "선택이 바뀌었습니다: 2개 추가" in page and "(draft)" not in page
        client.post("/api/issue/build", json={}, headers=headers)
        assert "선택이 바뀌었습니다" not in client.get("/issue").text
