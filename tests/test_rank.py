"""Ranking the queue by the curator's taste, on a real sample: two complete daily arXiv listings
and one real curator's picks (tests/fixtures/ranking). The pure ranker, the step that stores
scores after decisions, the queue and the API's order and reasons, and `rank --serve`."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from support.apps import app_for
from support.clock import MORNING
from support.ranking import (
    DAY_A,
    DAY_B,
    candidates,
    history_for,
    paper_entry,
    positives,
)
from support.web import login

from newsletter.flows.curate import Edit
from newsletter.flows.rank import item_doc
from newsletter.model import ItemStatus
from newsletter.rank import Doc, example_of, rank, rank_records
from newsletter.store import ranking, transaction
from newsletter.store.items import get_item_by_key, upsert_entries

REPO = Path(__file__).resolve().parent.parent


def test_the_curators_real_picks_rank_near_the_top_of_their_day():
    for day in (DAY_A, DAY_B):
        day_candidates = candidates(day)
        ranked = rank_records(day, history_for(day), day_candidates)
        assert sorted(ranked) == sorted(c["id"] for c in day_candidates)  # every candidate, once
        places = sorted(ranked.index(paper) + 1 for paper in positives(day))
        # In listing order they sit at random places in 81-191 papers; ranked, all in the first 20.
        assert places and places[-1] <= 20, (day, places)


def test_reasons_name_the_past_authors_and_picks_they_come_from():
    day = DAY_B
    history = history_for(day)
    examples = [example_of(record, date.fromisoformat(day)) for record in history]
    docs = [Doc(c["id"], c["title"], c["abstract"], tuple(c["authors"]), tuple(c["categories"]))
            for c in candidates(day)]
    scored = rank(examples, docs, date.fromisoformat(day))
    by_id = {doc.id: doc for doc in docs}
    picked_authors = {name for record in history for name in record.get("authors") or ()}
    author_reasons = [(s, r) for s in scored[:20] for r in s.reasons if r.startswith("예전에 고른 저자: ")]
    assert author_reasons
    for s, reason in author_reasons:  # the names are the candidate's own, and ones picked before
        named = [part.rsplit(" (", 1)[0] for part in reason.removeprefix("예전에 고른 저자: ").split(", ")]
        assert any(name in by_id[s.id].authors and name in picked_authors for name in named), reason
    assert any(r.startswith("비슷한 과거 선택: ") for s in scored[:20] for r in s.reasons)
    assert all(1 <= len(s.reasons) <= 3 and math.isfinite(s.score) for s in scored)


def test_an_empty_history_ranks_by_the_documented_prior():
    docs = [Doc("solo", "A study", "text", ("One Author",), ("cs.CV", "cs.CL")),
            Doc("team", "A study", "text", tuple(f"Author {n}" for n in range(9)), ("cs.CL",)),
            Doc("bare", "", "")]
    scored = rank([], docs, date(2025, 6, 20))
    assert [s.id for s in scored] == ["team", "solo", "bare"]  # bigger teams and cs.CL first
    assert all(s.reasons[0].startswith("기록 없음") for s in scored)
    assert rank([], [], date(2025, 6, 20)) == []


def test_a_huge_day_ranks_every_candidate():
    base = candidates(DAY_A) + candidates(DAY_B)
    huge = [{**record, "id": f"{record['id']}-{copy}"} for copy in range(12) for record in base][:3000]
    ranked = rank_records(DAY_B, history_for(DAY_B), huge)
    assert len(ranked) == 3000 and len(set(ranked)) == 3000


def _store_day(app, day: str) -> dict[str, int]:
    with transaction(app.conn):
        upsert_entries(app.conn, "arxiv-ai", [paper_entry(record, day) for record in candidates(day)], MORNING)
    return {record["id"]: get_item_by_key(app.conn, f"arxiv:{record['id']}").id for record in candidates(day)}


def _shared_author_pair(day: str, exclude: set[str] = frozenset()) -> tuple[str, str, str]:
    """Two papers of the day with an author in common (and the author)."""
    seen: dict[str, str] = {}
    for record in candidates(day):
        if record["id"] in exclude:
            continue
        for name in record["authors"]:
            if name in seen and seen[name] != record["id"]:
                return seen[name], record["id"], name
            seen.setdefault(name, record["id"])
    raise AssertionError("no shared author in the sample")


def _places(app) -> dict[int, tuple[int, tuple[str, ...]]]:
    items = ranking.waiting_items(app.conn, app.clock())
    scores = ranking.scores_of(app.conn, [item.id for item in items])
    order = sorted(scores, key=lambda item_id: -scores[item_id][0])
    return {item_id: (place, scores[item_id][1]) for place, item_id in enumerate(order, start=1)}


def test_an_approval_and_a_rejection_change_the_next_scores(tmp_path):
    app = app_for(tmp_path, "collect", clock=lambda: MORNING)
    ids = _store_day(app, DAY_B)
    report = app.rescore()
    assert report.scored == len(ids) and report.history == 0
    cold = _places(app)
    assert all(reasons[0].startswith("기록 없음") for _, reasons in cold.values())

    first, second, author = _shared_author_pair(DAY_B)
    app.desk.triage(None, ids[first], "approve")  # through the curator's desk, as the editor does
    app.rescorer.wait(timeout=60)
    warm = _places(app)
    assert ids[first] not in warm  # decided: no longer waiting, no longer ranked
    place, reasons = warm[ids[second]]
    assert place < cold[ids[second]][0]
    assert any(r.startswith("예전에 고른 저자: ") and author in r for r in reasons), reasons

    # Rejecting a paper pushes down the other paper of its authors, and says so.
    third, fourth, rejected_author = _shared_author_pair(DAY_B, exclude={first, second})
    before = warm[ids[fourth]][0]
    app.desk.triage(None, ids[third], "reject")
    app.rescorer.wait(timeout=60)
    after, reasons = _places(app)[ids[fourth]]
    assert after > before
    by_id = {record["id"]: record for record in candidates(DAY_B)}
    shared = set(by_id[third]["authors"]) & set(by_id[fourth]["authors"])
    assert rejected_author in shared
    assert any(r.startswith("예전에 넘긴 저자: ") and any(name in r for name in shared) for r in reasons), reasons
    app.close()


def _import_picks(app, records: list[dict]) -> None:
    """The curator's past picks as `history import` stores them: published, dated as picked."""
    entries = [paper_entry(record, record.get("day") or record["note_date"]) for record in records]
    with transaction(app.conn):
        upsert_entries(app.conn, ranking.HISTORY_SOURCE, entries, MORNING)
        ranking.mark_imported(app.conn, [(entry.key, datetime.fromisoformat(
            (record.get("day") or record["note_date"]) + "T12:00:00+00:00").astimezone(timezone.utc))
            for entry, record in zip(entries, records)])


def test_the_queue_and_the_api_order_waiting_papers_by_score_with_reasons(editor):
    ed = editor(seeded=False)
    ids = _store_day(ed.app, DAY_B)
    _import_picks(ed.app, history_for(DAY_B))
    assert ed.app.rescore().history == len(history_for(DAY_B))
    picked = {ids[paper] for paper in positives(DAY_B)}
    with ed.client() as client:
        login(client)
        answer = client.get("/api/items", params={"status": "new", "section": "papers", "per_page": 200})
        assert answer.status_code == 200
        items = answer.json()["items"]
        assert len(items) == len(ids)
        scores = [item["score"] for item in items]
        assert scores == sorted(scores, reverse=True) and all(isinstance(s, float) for s in scores)
        assert all(item["reasons"] and all(isinstance(r, str) for r in item["reasons"]) for item in items)
        assert picked <= {item["id"] for item in items[:20]}
        newest = client.get("/api/items", params={"status": "new", "section": "papers", "per_page": 200,
                                                  "order": "newest"}).json()["items"]
        assert [item["id"] for item in newest] == sorted(ids.values(), reverse=True)  # same day: by id
        assert client.get("/api/items", params={"order": "random"}).status_code == 400

        page = client.get("/queue", params={"section": "papers"}).text  # the first 50, best first
        shown = [int(found) for found in re.findall(r'data-item="(\d+)"', page)]
        assert shown == [item["id"] for item in items[:len(shown)]]
        assert "예전에 고른 저자" in page and "추천 이유" in page
        assert "최신 순" in page and "order=newest" in page
        newest_page = client.get("/queue", params={"section": "papers", "order": "newest"}).text
        assert 'aria-current="true">최신 순' in newest_page


def _serve(lines: list[str]) -> list[dict]:
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "bench.py"), "rank", "--serve"],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=300, cwd=REPO)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_rank_serve_answers_a_two_day_script_in_order_and_survives_bad_lines():
    requests = [{"day": day, "history": history_for(day), "candidates": candidates(day)} for day in (DAY_A, DAY_B)]
    answers = _serve([json.dumps(requests[0]), "{not json", json.dumps({"day": DAY_B, "candidates": "nope"}),
                      json.dumps(requests[1])])
    assert [answer.get("day") for answer in answers] == [DAY_A, None, None, DAY_B]
    assert "error" in answers[1] and "error" in answers[2]
    for request, answer in zip(requests, (answers[0], answers[3])):
        assert sorted(answer["ranked"]) == sorted(c["id"] for c in request["candidates"])
        assert positives(request["day"]) <= set(answer["ranked"][:20])
    # the very code that ranks the queue
    assert answers[3]["ranked"] == rank_records(DAY_B, requests[1]["history"], requests[1]["candidates"])


def test_item_docs_are_the_sources_text_not_the_curators_edits(tmp_path):
    app = app_for(tmp_path, "collect", clock=lambda: MORNING)
    ids = _store_day(app, DAY_A)
    item_id = next(iter(ids.values()))
    app.desk.apply_edit(None, item_id, Edit(title_override="큐레이터가 바꾼 제목", commentary="한국어 코멘터리"))
    doc = item_doc(app.desk.entry(item_id).item)
    assert doc.title != "큐레이터가 바꾼 제목" and doc.id.startswith("arxiv:")
    assert app.desk.entry(item_id).item.status is ItemStatus.NEW
    app.close()
