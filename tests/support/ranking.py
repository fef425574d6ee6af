"""The real ranking sample (tests/fixtures/ranking: two daily arXiv listings and one curator's
picks) as records, entries for the store, and the history a ranker may see on a day."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone

from newsletter.model import Entry, ItemKind
from support.fixtures import FIXTURES

RANKING = FIXTURES / "ranking"
DAY_A, DAY_B = "2025-06-19", "2025-06-20"


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def candidates(day: str) -> list[dict]:
    return read_jsonl(RANKING / "days" / f"{day}.jsonl")


def picks() -> list[dict]:
    return read_jsonl(RANKING / "picks.jsonl")


def history_for(day: str) -> list[dict]:
    """The benchmark's rule: picks listed before `day`, or never listed and noted by day - 2."""
    cutoff = (date.fromisoformat(day) - timedelta(days=2)).isoformat()
    return [p for p in picks() if (p.get("day") and p["day"] < day) or (not p.get("day") and p["note_date"] <= cutoff)]


def positives(day: str) -> set[str]:
    return {p["id"] for p in picks()} & {c["id"] for c in candidates(day)}


def paper_entry(record: dict, day: str) -> Entry:
    """A listing record as the arXiv collector would have stored it."""
    return Entry(key=f"arxiv:{record['id']}", kind=ItemKind.PAPER, url=f"https://arxiv.org/abs/{record['id']}",
                 title=record["title"], summary_text=record.get("abstract") or "",
                 summary_html=f"<p>{record.get('abstract') or ''}</p>", authors=tuple(record.get("authors") or ()),
                 categories=tuple(record.get("categories") or ()),
                 published=datetime.combine(date.fromisoformat(day), time(0), tzinfo=timezone.utc))
