"""Hugging Face Daily Papers: the community's picks of arXiv papers, with their upvotes.

GET https://huggingface.co/api/daily_papers (optionally ?date=YYYY-MM-DD) answers a JSON list,
one object a paper: `paper` holds the arXiv paper (id, title, authors, summary, upvotes, the
day it was featured), the object itself who submitted it, for which organization and how
many comments it has. Each becomes the arXiv paper's item (key `arxiv:<id>`, so it merges
with the listing's) whose HF mention carries the numbers; those are refreshed on every
collect (store/items.py), the item's curator fields never.
"""

from __future__ import annotations

import html
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from ..config import Settings, SourceConfig
from ..errors import ParseError
from ..model import Entry, ItemKind, Listing, SourceHealth
from ..text import arxiv_id, clean_text, sanitize_html
from . import Fetched, load_json
from .http import HttpClient

PAPER_PAGE = "https://huggingface.co/papers/{}"


def parse_daily_papers(content: bytes, *, source_id: str) -> Listing:
    """A Listing of the papers in one Daily Papers API answer. An entry that names no arXiv
    paper (HF also lists papers of its own) or is malformed is skipped with a note."""
    doc = load_json(content, source_id)
    if isinstance(doc, dict) and doc.get("error"):  # HF's error shape: {"error": "..."}
        raise ParseError(f"Hugging Face API error: {clean_text(str(doc['error']))[:200]}", source_id=source_id)
    if not isinstance(doc, list):
        raise ParseError("expected a JSON list of daily papers", source_id=source_id)
    entries: dict[str, Entry] = {}
    skipped: Counter[str] = Counter()
    for record in doc:
        paper = record.get("paper") if isinstance(record, dict) else None
        if not isinstance(paper, dict):
            skipped["malformed entries"] += 1
            continue
        found = arxiv_id(str(paper.get("id") or ""))
        if found is None:
            skipped["entries without an arXiv id"] += 1
            continue
        try:
            entry = _entry(record, paper, found[0])
        except (KeyError, TypeError, AttributeError, ValueError, OverflowError):
            entry = None
        if entry is None:
            skipped["malformed entries"] += 1
            continue
        entries.setdefault(entry.key, entry)  # a paper on two days' pages is one entry
    notes = [f"{n} {what} skipped" for what, n in sorted(skipped.items())]
    if not doc:
        notes.append("no papers")
    return Listing(tuple(entries.values()), note="; ".join(notes))


def _entry(record: dict, paper: dict, paper_id: str) -> Entry | None:
    title = clean_text(str(paper.get("title") or record.get("title") or ""))
    if not title:
        return None
    abstract = clean_text(str(paper.get("summary") or record.get("summary") or ""))
    authors = tuple(clean_text(a["name"]) for a in paper.get("authors") or () if clean_text(a.get("name") or ""))
    # The day HF featured it, not arXiv's submission date: a paper on today's page is today's
    # news even if arXiv had it a week ago (and a first collect's backfill must not hide it).
    featured = _date(paper.get("submittedOnDailyAt"))
    meta: dict[str, Any] = {"arxiv_id": paper_id, "pdf_url": f"https://arxiv.org/pdf/{paper_id}",
                            "hf_url": PAPER_PAGE.format(paper_id)}
    if submitted := _date(paper.get("publishedAt")):
        meta["arxiv_published"] = submitted.strftime("%Y-%m-%dT%H:%M:%SZ")
    for key, name in (("githubRepo", "github_repo"), ("projectPage", "project_page")):
        if isinstance(paper.get(key), str) and paper[key].startswith("https://"):
            meta[name] = paper[key]
    if isinstance(paper.get("ai_keywords"), list):
        meta["ai_keywords"] = [clean_text(str(k)) for k in paper["ai_keywords"]][:20]
    return Entry(
        key=f"arxiv:{paper_id}",
        kind=ItemKind.PAPER,
        url=f"https://arxiv.org/abs/{paper_id}",
        title=title,
        # Abstracts are plain text with LaTeX: escape, never interpret (as arxiv.py does).
        summary_html=sanitize_html(f"<p>{html.escape(abstract)}</p>") if abstract else "",
        summary_text=abstract,
        authors=authors,
        published=featured or _date(paper.get("publishedAt")),
        meta=meta,
        mention_url=PAPER_PAGE.format(paper_id),
        mention_meta=_numbers(record, paper, featured),
    )


def _numbers(record: dict, paper: dict, featured: datetime | None) -> dict[str, Any]:
    """What HF says of the paper: upvotes, comments, who submitted it, for which organization."""
    numbers: dict[str, Any] = {}
    if isinstance(paper.get("upvotes"), int):
        numbers["upvotes"] = paper["upvotes"]
    if isinstance(record.get("numComments"), int):
        numbers["comments"] = record["numComments"]
    submitter = record.get("submittedBy") or paper.get("submittedOnDailyBy") or {}
    if isinstance(submitter, dict) and (submitter.get("fullname") or submitter.get("name")):
        numbers["submitter"] = clean_text(str(submitter.get("fullname") or submitter["name"]))
    organization = record.get("organization") or paper.get("organization") or {}
    if isinstance(organization, dict) and (organization.get("fullname") or organization.get("name")):
        numbers["organization"] = clean_text(str(organization.get("fullname") or organization["name"]))
    if featured:
        numbers["featured"] = featured.date().isoformat()
    return numbers


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: year 1 at +05:00 has no UTC
        return None


async def collect(source: SourceConfig, http: HttpClient, health: SourceHealth, settings: Settings,
                  now: datetime) -> Fetched:
    """One request for the day's page; a 304 costs nothing. `now` is unused: HF dates its papers."""
    response = await http.get(source.url, source_id=source.id, etag=health.etag,
                              last_modified=health.last_modified, headers={"Accept": "application/json"})
    if response.not_modified:
        return Fetched(Listing(()), not_modified=True, etag=response.etag or health.etag,
                       last_modified=response.last_modified or health.last_modified)
    listing = parse_daily_papers(response.content, source_id=source.id)
    return Fetched(listing, etag=response.etag, last_modified=response.last_modified)
