"""Records as the ranking data set and `scripts/bench.py rank --serve` carry them: a candidate
`{"id", "title", "abstract", "authors", "categories"}`, a past pick with `day` (its listing
day, or null) and `note_date`. One conversion, so the benchmark and the queue rank alike."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, Sequence

from .ranker import Doc, Example, Label, rank


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{field} must be a list of strings")
    return tuple(value)


def _text(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string")
    return value


def doc_of(record: Mapping[str, Any]) -> Doc:
    """ValueError naming the field when a record is not one (the serve loop answers with it)."""
    if not isinstance(record, Mapping):
        raise ValueError("a record must be a JSON object")
    identifier = record.get("id")
    if not isinstance(identifier, str) or not identifier:
        raise ValueError("id must be a non-empty string")
    return Doc(id=identifier, title=_text(record, "title"), abstract=_text(record, "abstract"),
               authors=_strings(record.get("authors"), "authors"),
               categories=_strings(record.get("categories"), "categories"))


def _date(value: Any, field: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as e:
        raise ValueError(f"{field} must be a date (YYYY-MM-DD)") from e


def example_of(record: Mapping[str, Any], today: dt.date) -> Example:
    """A past pick (or, with "label", any decision) dated by its listing day, else its note
    date, else today."""
    doc = doc_of(record)
    when = _date(record.get("day"), "day") or _date(record.get("note_date"), "note_date") or today
    label = record.get("label", Label.POSITIVE.value)
    try:
        return Example(doc=doc, label=Label(label), when=when)
    except ValueError as e:
        raise ValueError(f"label must be one of {', '.join(label.value for label in Label)}") from e


def rank_records(day: Any, history: Sequence[Mapping[str, Any]],
                 candidates: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every candidate id, best first (the --serve answer)."""
    today = _date(day, "day")
    if today is None:
        raise ValueError("day is required (YYYY-MM-DD)")
    if not isinstance(history, list) or not isinstance(candidates, list):
        raise ValueError("history and candidates must be lists")
    examples = [example_of(record, today) for record in history]
    docs = [doc_of(record) for record in candidates]
    return [scored.id for scored in rank(examples, docs, today)]  # a repeated id comes once
