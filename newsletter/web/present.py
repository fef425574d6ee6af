"""How items look to the curator: sections, "where it was seen", safe links, JSON.

Feed content is untrusted even after the collectors sanitised it: everything shown here is
sanitised again or escaped, and links that are not http(s) are dropped.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..config import Settings
from ..model import Item, Mention, SourceKind, utc_iso
from ..sections import source_name
from ..store.queue import QueueEntry
from ..text import (  # noqa: F401 (safe_url: web's)
    bluesky_post, hf_paper_id, markdown_subset, safe_url, sanitize_html, truncate, x_status)

SUMMARY_CHARS = 600  # the queue shows this much; the edit page shows all
WEEKDAYS_KO = "월화수목금토일"


def local_time(moment: datetime | None, zone: ZoneInfo, with_time: bool = True) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(zone)
    text = f"{local:%Y-%m-%d} ({WEEKDAYS_KO[local.weekday()]})"
    return f"{text} {local:%H:%M}" if with_time else text


def seen_lines(item: Item, settings: Settings) -> list[str]:
    """Where an item was seen, so the merge across sources is visible: its arXiv categories
    ("cs.CL, cs.LG"), what Hugging Face says of it, "also on X: @karpathy", "also on Bluesky:
    @lab.bsky.social", "also in Google DeepMind"."""
    lines: list[str] = []
    if item.categories:
        lines.append(", ".join(item.categories))
    sources = {source.id: source for source in settings.sources}
    posts: dict[str, list[str]] = {"X": [], "Bluesky": []}
    others: list[str] = []
    for mention in item.mentions:
        if hf_paper_id(mention.url) and mention.meta:  # its numbers, whoever brought the item
            lines.append(hf_line(mention))
            continue
        if mention.source_id == item.source_id:
            continue
        source = sources.get(mention.source_id)
        kind = source.kind if source else None
        on_x, on_bluesky = x_status(mention.url), bluesky_post(mention.url)
        if kind in (SourceKind.X, SourceKind.BLUESKY) or on_x or on_bluesky:
            network = "Bluesky" if kind is SourceKind.BLUESKY or on_bluesky else "X"
            handle = ((on_x or on_bluesky) or ("", ""))[0] or (source.handle if source else "")
            label = f"@{handle}" if handle else (source.name if source else mention.source_id)
            if label not in posts[network]:
                posts[network].append(label)
        else:
            name = source_name(settings, mention.source_id)
            if name not in others:
                others.append(name)
    lines += [f"also on {network}: " + ", ".join(handles) for network, handles in posts.items() if handles]
    if others:
        lines.append("also in " + ", ".join(others))
    return lines


def hf_line(mention: Mention) -> str:
    """"Hugging Face ▲118 · 댓글 3 · Rafal Kocielnik 제출 · MIT": what the Daily Papers page says."""
    meta = mention.meta
    parts = ["Hugging Face" + (f" ▲{mention.upvotes}" if mention.upvotes is not None else "")]
    if isinstance(meta.get("comments"), int):
        parts.append(f"댓글 {meta['comments']}")
    if meta.get("submitter"):
        parts.append(f"{meta['submitter']} 제출")
    if meta.get("organization"):
        parts.append(str(meta["organization"]))
    return " · ".join(parts)


def hf_upvotes(item: Item) -> int | None:
    """The item's upvotes on Hugging Face Daily Papers (the highest, should two HF sources
    differ), or None if HF never listed it."""
    votes = [m.upvotes for m in item.mentions if m.upvotes is not None and hf_paper_id(m.url)]
    return max(votes) if votes else None


def mention_json(mention: Mention) -> dict:
    """One mention as items JSON shows it: source, url, first seen, and what the source said
    of the item (upvotes, comments, submitter, organization), each only when it said so."""
    return {"source": mention.source_id, "url": safe_url(mention.url), "seen": utc_iso(mention.first_seen),
            **mention.said}


def short_summary(item: Item) -> str:
    return truncate(item.summary_text.replace("\n", " "), SUMMARY_CHARS)


def item_json(entry: QueueEntry, settings: Settings) -> dict:
    """An item as the JSON API shows it: plain text where text is meant, sanitised HTML
    where HTML is meant, and only http(s) links."""
    item = entry.item
    return {
        "id": item.id, "key": item.key, "kind": item.kind.value, "source": item.source_id,
        "section": entry.section, "status": entry.status.value,
        "snoozed_until": utc_iso(entry.snoozed_until) if entry.snoozed_until and entry.status.value == "snoozed"
        else None,
        "title": item.display_title, "original_title": item.title, "title_override": item.title_override,
        "url": safe_url(item.url), "authors": list(item.authors), "categories": list(item.categories),
        "summary": item.summary_text, "summary_html": sanitize_html(item.summary_html),
        "published": utc_iso(item.published), "commentary": item.commentary,
        "commentary_html": markdown_subset(item.commentary), "tags": list(item.tags),
        "section_override": item.section_override,
        "mentions": [mention_json(m) for m in item.mentions],
        "seen": seen_lines(item, settings),
        "related": [{"url": safe_url(link.url), "title": link.title} for link in item.related],
        "score": round(entry.score, 4) if entry.score is not None else None,
        "reasons": list(entry.reasons),
    }
