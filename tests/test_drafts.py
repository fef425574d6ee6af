"""Drafts in the curator's voice, against a loopback stand-in that speaks the OpenAI chat
protocol with real recorded bodies: grounded in the abstract, the curator's own commentary on
similar past items as examples, never overwriting, Korean errors without the key, the daily
cap, Retry-After; and tag suggestions learned from the curator on real sample data."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from support.apps import app_for
from support.clock import MORNING
from support.llm import (
    BAD_KEY,
    NOT_FOUND,
    RATE_LIMITED,
    ChatStandIn,
    Reply,
    completion_saying,
)
from support.ranking import DAY_A, DAY_B, candidates, paper_entry
from support.web import login

from newsletter.errors import ModelError
from newsletter.flows.curate import Edit
from newsletter.flows.drafts import suggested_tags
from newsletter.store import model_drafts, transaction
from newsletter.store.items import get_item_by_key, upsert_entries

KEY = "sk-test-never-shown-0042"
DRAFT = "PPO의 긴 응답 생성 비용을 줄이려고 잘린 궤적으로 학습하는 방법입니다. 추론 성능을 유지하면서 학습 속도를 높였다는 점이 흥미롭습니다."
# The curator's past picks (real papers of the sample), with commentary and tags in their voice.
PAST = {
    "2506.14965": ("LLM 추론을 위한 강화학습을 여러 도메인에서 다시 살펴본 연구. 수학 밖의 도메인에서도 RL이 도움이 되는지 "
                   "정리한 데이터셋이 유용합니다.", "강화학습, 추론"),
    "2506.15442": ("3D 에셋 생성 모델의 새 버전. 텍스처 품질이 좋아졌습니다.", "3d, 생성모델"),
}
TARGET = "2506.15050"  # Truncated Proximal Policy Optimization (2025-06-20)


def _app(tmp_path, stand_in, **llm):
    app = app_for(tmp_path, "collect", clock=lambda: MORNING, environ={"NEWSLETTER_LLM_API_KEY": KEY},
                  llm={"base_url": stand_in.base_url, "model": "gpt-3.5-turbo", "timeout": 5, **llm})
    with transaction(app.conn):
        upsert_entries(app.conn, "arxiv-ai", [paper_entry(r, DAY_A) for r in candidates(DAY_A)]
                       + [paper_entry(r, DAY_B) for r in candidates(DAY_B)], MORNING)
    for paper, (commentary, tags) in PAST.items():
        item = get_item_by_key(app.conn, f"arxiv:{paper}")
        app.desk.apply_edit(None, item.id, Edit(commentary=commentary, tags=tags))
        app.desk.triage(None, item.id, "approve")
    app.rescorer.wait(timeout=60)
    return app, get_item_by_key(app.conn, f"arxiv:{TARGET}")


def test_a_draft_is_grounded_in_the_abstract_and_the_curators_own_examples(tmp_path):
    with ChatStandIn(Reply(200, completion_saying(DRAFT))) as stand_in:
        app, target = _app(tmp_path, stand_in, examples=1)
        app.desk.apply_edit(None, target.id, Edit(commentary="내가 먼저 쓴 코멘트"))
        found = asyncio.run(app.draft(target.id))

    assert found.text == DRAFT and found.model == "gpt-3.5-turbo-0125"  # the server's own name for it
    (request,) = stand_in.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    body = request["body"]
    assert body["model"] == "gpt-3.5-turbo" and body["stream"] is False and body["max_tokens"] == 400
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    example_item, example_commentary, asked = body["messages"][1:]
    assert "Revisiting Reinforcement Learning for LLM Reasoning" in example_item["content"]  # the most similar
    assert example_commentary["content"] == PAST["2506.14965"][0]
    record = next(r for r in candidates(DAY_B) if r["id"] == TARGET)
    assert record["abstract"][:300] in asked["content"] and record["title"] in asked["content"]
    # kept as a proposal with its prompt; the saved commentary is untouched
    stored = model_drafts.get(app.conn, target.id)
    assert json.loads(stored.prompt) == body["messages"] and stored.error == ""
    assert app.desk.entry(target.id).item.commentary == "내가 먼저 쓴 코멘트"
    app.close()


def test_429_with_retry_after_is_retried_and_the_daily_cap_holds(tmp_path):
    replies = (Reply(429, RATE_LIMITED, {"Retry-After": "1"}), Reply(200, completion_saying(DRAFT)))
    with ChatStandIn(*replies) as stand_in:
        app, target = _app(tmp_path, stand_in, daily_max_requests=2)
        assert asyncio.run(app.draft(target.id)).text == DRAFT
        assert len(stand_in.requests) == 2  # the 429, then the answer after Retry-After
        asyncio.run(app.draft(target.id))
        with pytest.raises(ModelError, match="오늘 모델 요청 한도"):
            asyncio.run(app.draft(target.id))
        assert len(stand_in.requests) == 3  # over the cap: nothing sent
    app.close()


@pytest.mark.parametrize("reply, korean", [
    (Reply(401, BAD_KEY), "모델 서버가 키를 받지 않았습니다 (401)"),
    (Reply(404, NOT_FOUND), "'gpt-3.5-turbo' 모델이나 주소가 없습니다 (404)"),
    (Reply(200, completion_saying(DRAFT), delay=3), "모델 서버에 닿지 못했습니다"),
    (Reply(200, b"<html>proxy error</html>"), "chat.completion 형식이 아닙니다"),
])
def test_failures_give_a_korean_message_lose_nothing_and_never_show_the_key(tmp_path, caplog, reply, korean):
    caplog.set_level(logging.DEBUG)
    with ChatStandIn(reply) as stand_in:
        app, target = _app(tmp_path, stand_in, timeout=1)
        with transaction(app.conn):
            model_drafts.save(app.conn, target.id, model="earlier", prompt="[]", text="지난번 초안", now=MORNING)
        with pytest.raises(ModelError) as caught:
            asyncio.run(app.draft(target.id))
    message = str(caught.value)
    assert message.startswith("모델") and korean in message  # Korean first, the detail after
    assert KEY not in message and "sk-" not in message and KEY not in caplog.text
    stored = model_drafts.get(app.conn, target.id)
    assert stored.text == "지난번 초안" and stored.error == message  # the failure is noted, the old draft kept
    assert app.desk.entry(target.id).item.commentary == ""
    app.close()


def test_the_edit_page_and_the_api_offer_the_draft_without_overwriting(editor):
    with ChatStandIn(Reply(200, completion_saying(DRAFT))) as stand_in:
        ed = editor(llm={"base_url": stand_in.base_url, "model": "gpt-3.5-turbo"},
                    environ={"NEWSLETTER_LLM_API_KEY": KEY})
        with ed.client() as client:
            csrf = login(client)
            item = client.get("/api/items", params={"per_page": 1}).json()["items"][0]
            page = client.get(f"/items/{item['id']}").text
            assert "모델 초안 받기" in page and KEY not in page
            answer = client.post(f"/api/items/{item['id']}/suggest", headers={"X-CSRF-Token": csrf})
            assert answer.status_code == 200 and answer.json()["draft"] == DRAFT
            assert answer.json()["model"] == "gpt-3.5-turbo-0125"
            after = client.get(f"/api/items/{item['id']}").json()
            assert after["commentary"] == item["commentary"]  # a proposal, not a save
            page = client.get(f"/items/{item['id']}").text
            assert DRAFT in page and "이 초안을 코멘터리 칸에 넣기" in page and KEY not in page


def test_tag_suggestions_put_the_similar_past_items_tags_first(tmp_path):
    with ChatStandIn() as stand_in:
        app, target = _app(tmp_path, stand_in)
    learned = suggested_tags(app.conn, target.id)
    assert learned[:2] == ["강화학습", "추론"]  # from the RL reasoning pick, not the 3D one
    assert suggested_tags(app.conn, target.id, "3") == ["3d"]  # typed text filters, Latin tags too
    app.close()


def test_a_key_pasted_with_hangul_or_spaces_is_refused_clearly(tmp_path):
    with ChatStandIn(Reply(200, completion_saying(DRAFT))) as stand_in:
        app = app_for(tmp_path, "collect", clock=lambda: MORNING, environ={"NEWSLETTER_LLM_API_KEY": "sk-키 복사"},
                      llm={"base_url": stand_in.base_url, "model": "gpt-3.5-turbo"})
        with transaction(app.conn):
            upsert_entries(app.conn, "arxiv-ai", [paper_entry(candidates(DAY_B)[0], DAY_B)], MORNING)
        item = get_item_by_key(app.conn, f"arxiv:{candidates(DAY_B)[0]['id']}")
        with pytest.raises(ModelError, match="NEWSLETTER_LLM_API_KEY에 키에 쓸 수 없는 글자") as caught:
            asyncio.run(app.draft(item.id))
        assert "키 복사" not in str(caught.value) and stand_in.requests == []
    app.close()


def test_predrafting_after_a_collect_drafts_the_top_ranked_within_the_cap(tmp_path, server):
    from support.fixtures import RSS, fixture_bytes

    from newsletter.demo.server import Route

    server.routes["/openai.xml"] = Route(fixture_bytes("feeds/openai-news-rss-2025-07-28.xml"), RSS)
    replies = (Reply(200, completion_saying(DRAFT)), Reply(500, b'{"error": {"message": "overloaded"}}'))
    with ChatStandIn(*replies) as stand_in:
        app = app_for(tmp_path, "collect", sources=[{"id": "openai", "kind": "feed", "url": server.url("/openai.xml")}],
                      environ={"NEWSLETTER_LLM_API_KEY": KEY},
                      llm={"base_url": stand_in.base_url, "model": "gpt-3.5-turbo", "predraft_top": 3,
                           "daily_max_requests": 2})
        report = asyncio.run(app.collect())
        assert report.new > 0  # the collect itself is whole, whatever the model did
    with app.own_connection() as conn:
        rows = conn.execute("SELECT item_id, text, error FROM model_drafts ORDER BY created, item_id").fetchall()
        top = conn.execute("SELECT item_id FROM item_scores ORDER BY score DESC, item_id LIMIT 3").fetchall()
    assert len(stand_in.requests) == 2  # the cap: the third top item is not asked for
    assert {row["item_id"] for row in rows} <= {row[0] for row in top} and len(rows) == 2
    assert sorted(bool(row["text"]) for row in rows) == [False, True]
    assert any(row["error"].startswith("모델 서버 오류 (500)") for row in rows)  # noted on its item
    app.close()
