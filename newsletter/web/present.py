"""How items look to the curator: sections, "where it was seen", safe links, JSON.

Feed content is untrusted even after the collectors sanitised it: everything shown here is
sanitised again or escaped, and links that are not http(s) are dropped.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ..config import Settings
from ..model import Item, SourceKind, utc_iso
from ..store.curation import RelatedLink
from ..store.queue import QueueEntry, Sections
from ..text import markdown_subset, sanitize_html, truncate, x_status

MANUAL_SOURCE = "manual"
SUMMARY_CHARS = 600  # the queue shows this much; the edit page shows all
WEEKDAYS_KO = "월화수목금토일"


def sections_of(settings: Settings) -> Sections:
    """Sections from the source config; items added by hand go by their kind to the section
    of the first source of that kind (papers with papers, posts on X with X)."""
    by_kind: dict[str, str] = {}
    defaults = {SourceKind.FEED: ("post", "labs"), SourceKind.ARXIV: ("paper", "papers"),
                SourceKind.X: ("x_post", "x")}
    for source in settings.sources:
        by_kind.setdefault(defaults[source.kind][0], source.section)
    for kind, section in defaults.values():
        by_kind.setdefault(kind, section)
    order = list(settings.newsletter.sections)
    order += [s.section for s in settings.sources if s.section not in order]
    return Sections(by_source={s.id: s.section for s in settings.sources}, by_kind=by_kind,
                    order=tuple(dict.fromkeys(order)))


def safe_url(url: str | None) -> str:
    """The URL if it is http(s), else "" (no javascript:, data: or relative surprises)."""
    if not url:
        return ""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def local_time(moment: datetime | None, zone: ZoneInfo, with_time: bool = True) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(zone)
    text = f"{local:%Y-%m-%d} ({WEEKDAYS_KO[local.weekday()]})"
    return f"{text} {local:%H:%M}" if with_time else text


def source_name(settings: Settings, source_id: str) -> str:
    if source_id == MANUAL_SOURCE:
        return "직접 추가"
    for source in settings.sources:
        if source.id == source_id:
            return source.name
    return source_id


def seen_lines(item: Item, settings: Settings) -> list[str]:
    """Where an item was seen, so the merge across sources is visible: its arXiv categories
    ("cs.CL, cs.LG"), "also on X: @karpathy", "also in Google DeepMind"."""
    lines: list[str] = []
    if item.categories:
        lines.append(", ".join(item.categories))
    sources = {source.id: source for source in settings.sources}
    handles: list[str] = []
    others: list[str] = []
    for mention in item.mentions:
        if mention.source_id == item.source_id:
            continue
        source = sources.get(mention.source_id)
        post = x_status(mention.url)
        if (source and source.kind is SourceKind.X) or post:
            handle = (post and post[0]) or (source.handle if source else "")
            label = f"@{handle}" if handle else (source.name if source else mention.source_id)
            if label not in handles:
                handles.append(label)
        else:
            name = source_name(settings, mention.source_id)
            if name not in others:
                others.append(name)
    if handles:
        lines.append("also on X: " + ", ".join(handles))
    if others:
        lines.append("also in " + ", ".join(others))
    return lines


def byline(item: Item, settings: Settings) -> str:
    """Authors (the first few) or the source's name."""
    if item.authors:
        shown = settings.render.authors_shown
        names = ", ".join(item.authors[:shown])
        return names + (f" 외 {len(item.authors) - shown}명" if len(item.authors) > shown else "")
    return source_name(settings, item.source_id)


def short_summary(item: Item) -> str:
    return truncate(item.summary_text.replace("\n", " "), SUMMARY_CHARS)


def item_json(entry: QueueEntry, settings: Settings, related: list[RelatedLink] | None = None) -> dict:
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
        "mentions": [{"source": m.source_id, "url": safe_url(m.url), "seen": utc_iso(m.first_seen)}
                     for m in item.mentions],
        "seen": seen_lines(item, settings),
        "related": [{"url": safe_url(link.url), "title": link.title} for link in related or ()],
    }
