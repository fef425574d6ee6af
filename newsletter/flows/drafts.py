"""Drafts in the curator's voice: a model writes 2-3 Korean sentences grounded in the item's
title, source and abstract, shown the curator's own commentary on the most similar past items
as examples. The draft is a proposal stored apart (store/model_drafts.py): it never touches
saved commentary or a draft the curator typed. Also the learned tag suggestions: the tags of
the most similar past items first."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, time
from typing import Sequence

from ..collect import chat
from ..collect.http import HttpClient
from ..config import Settings
from ..errors import ModelError, NotFound
from ..model import Item
from ..rank import most_similar
from ..sections import item_source_name
from ..store import curation, model_drafts, transaction
from ..store.items import get_item, get_items
from .rank import item_doc

ABSTRACT_CHARS = 2500  # enough for an arXiv abstract; keeps the prompt small for local models
SYSTEM = ("당신은 한국어 AI 뉴스레터 큐레이터의 글쓰기 도우미입니다. 큐레이터가 쓴 예시와 같은 말투와 길이로, "
          "주어진 항목에 대한 코멘터리를 한국어 2~3문장으로 씁니다. 제목과 초록에 있는 내용만 근거로 삼고, "
          "없는 사실을 지어내지 않습니다. 해시태그·머리말·따옴표 없이 코멘터리 본문만 답합니다.")


@dataclass(frozen=True)
class Example:
    item: Item
    similarity: float


def examples_for(conn: sqlite3.Connection, item: Item, k: int) -> list[Example]:
    """The curator's own commented picks most like `item` (the ranker's text features)."""
    pool = [other for other in get_items(conn, model_drafts.commented_items(conn)) if other.id != item.id]
    by_key = {other.key: other for other in pool}
    found = most_similar(item_doc(item), [item_doc(other) for other in pool], k)
    return [Example(by_key[key], score) for key, score in found]


def _describe(item: Item, settings: Settings) -> str:
    lines = [f"제목: {item.title}", f"출처: {item_source_name(item, settings)}"]
    if item.authors:
        lines.append("저자: " + ", ".join(item.authors[:8]) + (" 외" if len(item.authors) > 8 else ""))
    if item.summary_text:
        lines.append("초록: " + item.summary_text[:ABSTRACT_CHARS])
    return "\n".join(lines)


def prompt_for(item: Item, examples: Sequence[Example], settings: Settings) -> list[chat.Message]:
    """System rules, the examples as earlier turns (item -> the curator's commentary), then the item."""
    messages = [chat.Message("system", SYSTEM)]
    for example in examples:
        messages.append(chat.Message("user", _describe(example.item, settings)))
        messages.append(chat.Message("assistant", example.item.commentary))
    messages.append(chat.Message("user", _describe(item, settings)))
    return messages


def _day_start(settings: Settings, now: datetime) -> datetime:
    local = now.astimezone(settings.newsletter.zone)
    return datetime.combine(local.date(), time(0), tzinfo=settings.newsletter.zone)


async def draft(conn: sqlite3.Connection, settings: Settings, http: HttpClient, item_id: int,
                now: datetime) -> model_drafts.ModelDraft:
    """Ask the model for a draft of this item's commentary and keep it as a model draft.
    ModelError (in Korean) when it is off, over the daily cap or fails; the failure is noted
    on the item's model draft and nothing the curator wrote changes."""
    item = get_item(conn, item_id)
    if item is None:
        raise NotFound(f"no item {item_id}", what=item_id)
    llm = settings.llm
    if not llm.enabled:
        raise ModelError("모델이 설정되지 않았습니다: sources.yaml의 llm.base_url과 llm.model을 채우세요")
    if model_drafts.calls_since(conn, _day_start(settings, now)) >= llm.daily_max_requests:
        raise ModelError(f"오늘 모델 요청 한도({llm.daily_max_requests}번)를 다 썼습니다: "
                         "llm.daily_max_requests를 늘리거나 내일 다시 시도하세요")
    messages = prompt_for(item, examples_for(conn, item, llm.examples), settings)
    prompt = json.dumps([{"role": m.role, "content": m.content} for m in messages], ensure_ascii=False)
    try:
        completion = await chat.complete(http, llm, settings.llm_api_key, messages)
    except ModelError as e:
        with transaction(conn):
            model_drafts.record_call(conn, item_id, now, ok=False)
            model_drafts.save(conn, item_id, model=llm.model, prompt=prompt, error=str(e), now=now)
        raise
    with transaction(conn):
        model_drafts.record_call(conn, item_id, now, ok=True)
        model_drafts.save(conn, item_id, model=completion.model or llm.model, prompt=prompt,
                          text=completion.text, now=now)
    return model_drafts.get(conn, item_id)


async def predraft(conn: sqlite3.Connection, settings: Settings, http: HttpClient, item_ids: Sequence[int],
                   now: datetime) -> dict[int, str]:
    """Drafts for these items (the top-ranked waiting ones) that have none yet, within the
    daily cap; one failure never stops the others. Returns {item id: error} for the failures."""
    failures: dict[int, str] = {}
    for item_id in item_ids:
        existing = model_drafts.get(conn, item_id)
        if existing is not None and existing.text:
            continue
        try:
            await draft(conn, settings, http, item_id, now)
        except ModelError as e:
            failures[item_id] = str(e)
            if "한도" in str(e):  # the cap: the rest would fail the same way
                break
    return failures


def suggested_tags(conn: sqlite3.Connection, item_id: int, fragment: str = "", limit: int = 10) -> list[str]:
    """Tags for this item: those of the most similar tagged past items first (weighted by how
    similar), then the curator's other tags; only those containing `fragment` if given."""
    item = get_item(conn, item_id)
    if item is None:
        raise NotFound(f"no item {item_id}", what=item_id)
    pool = [other for other in get_items(conn, model_drafts.tagged_items(conn)) if other.id != item.id and other.tags]
    by_key = {other.key: other for other in pool}
    weights: dict[str, float] = {}
    for key, score in most_similar(item_doc(item), [item_doc(other) for other in pool], 20):
        for tag in by_key[key].tags:
            weights[tag] = weights.get(tag, 0.0) + score
    learned = [tag for tag, _ in sorted(weights.items(), key=lambda pair: (-pair[1], pair[0]))
               if fragment in tag and tag not in item.tags]
    rest = [tag for tag in curation.suggest_tags(conn, fragment, limit=limit * 2)
            if tag not in learned and tag not in item.tags] if fragment else []
    return (learned + rest)[:limit]
