"""Where an item sits and whose it is, one rule for every view: the editor's queue and
picks (and their SQL filters), the composer, the email and the archive.

A section is the curator's choice, else the section of the source that brought the item,
else, for items added by hand (or from a source since removed from the config), the section
of the first configured source of the item's kind (papers with papers, posts on X with X).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from .config import Settings
from .kinds import KINDS, SECTION_BY_ITEM_KIND
from .model import Item

MANUAL_SOURCE = "manual"  # the source_id of items the curator added by URL
MANUAL_SOURCE_NAME = "직접 추가"
OTHER_SECTION = "other"
DEFAULT_SECTION_BY_KIND = SECTION_BY_ITEM_KIND  # a kind of item's section when no source brings it


@dataclass(frozen=True)
class Sections:
    """Sections by source (from the config), by item kind, and the order they are shown in."""

    by_source: Mapping[str, str]
    by_kind: Mapping[str, str]
    order: Sequence[str]

    def rank(self, section: str) -> int:
        return self.order.index(section) if section in self.order else len(self.order)

    def of(self, item: Item) -> str:
        return (item.section_override or self.by_source.get(item.source_id)
                or self.by_kind.get(item.kind.value) or OTHER_SECTION)

    def sql(self) -> tuple[str, list]:
        """The same rule as `of`, as a SQL expression over `items`, and its parameters."""
        params: list = []
        by_source = "NULL"
        if self.by_source:
            by_source = "CASE items.source_id " + " ".join("WHEN ? THEN ?" for _ in self.by_source) + " END"
            for source_id, section in self.by_source.items():
                params += [source_id, section]
        by_kind = "CASE items.kind " + " ".join("WHEN ? THEN ?" for _ in self.by_kind) + " ELSE ? END" \
            if self.by_kind else "?"
        for kind, section in self.by_kind.items():
            params += [kind, section]
        params.append(OTHER_SECTION)
        return f"coalesce(nullif(items.section_override, ''), {by_source}, {by_kind})", params


def sections_of(settings: Settings) -> Sections:
    by_kind: dict[str, str] = {}
    for source in settings.sources:
        by_kind.setdefault(KINDS[source.kind].item_kind, source.section)
    for kind, section in DEFAULT_SECTION_BY_KIND.items():
        by_kind.setdefault(kind, section)
    order = list(settings.newsletter.sections)
    order += [s.section for s in settings.sources if s.section not in order]
    return Sections(by_source={s.id: s.section for s in settings.sources}, by_kind=by_kind,
                    order=tuple(dict.fromkeys(order)))


def section_of(item: Item, settings: Settings) -> str:
    return sections_of(settings).of(item)


def source_name(settings: Settings, source_id: str, feed_title: str = "") -> str:
    """The configured source's reader-facing name (display_name, else name); "직접 추가" for
    items added by hand; else the feed's own title or the id (a source since removed)."""
    if source_id == MANUAL_SOURCE:
        return MANUAL_SOURCE_NAME
    for source in settings.sources:
        if source.id == source_id:
            return source.reader_name
    return feed_title or source_id


def item_source_name(item: Item, settings: Settings) -> str:
    """`source_name` of the source that brought the item; a page added by hand names its site."""
    meta = item.meta or {}
    if item.source_id == MANUAL_SOURCE and meta.get("site_name"):
        return str(meta["site_name"])  # the page's og:site_name ("Anthropic")
    return source_name(settings, item.source_id, str(meta.get("feed_title") or ""))
