"""The source-kind registry: everything the rest of the code knows about a kind of source,
in one entry. A new kind is one collector module (collect/<kind>.py, offering
`async collect(source, http, health, settings, now) -> Fetched`) plus one entry here.

It sits beside config (which validates each source against its kind's fields) and below
collect, so the collector is named by module rather than imported: flows/collecting.py
resolves it once.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import SourceKind

COMMON_FIELDS = frozenset({"id", "kind", "name", "display_name", "section", "url", "enabled"})


@dataclass(frozen=True)
class Kind:
    collector: str  # the module whose `collect` fetches and parses this kind
    item_kind: str  # what its entries become: "post" | "paper" | "x_post" (model.ItemKind)
    section: str  # where its items sit unless the source says otherwise
    required: tuple[str, ...]  # config fields a source of this kind must have
    fields: frozenset[str]  # config fields it may have (COMMON_FIELDS included)
    parses_in_worker: bool = False  # CPU-heavy parser: preload it in the parser processes
    api_url: str = ""  # the default of `api_url:`


KINDS: dict[SourceKind, Kind] = {
    SourceKind.FEED: Kind(
        collector="newsletter.collect.feeds", item_kind="post", section="labs",
        required=("url",), fields=COMMON_FIELDS, parses_in_worker=True),
    SourceKind.ARXIV: Kind(
        collector="newsletter.collect.arxiv", item_kind="paper", section="papers",
        required=("url", "categories"), fields=COMMON_FIELDS | {"categories", "announce_types", "api_url"},
        parses_in_worker=True, api_url="https://export.arxiv.org/api/query"),
    SourceKind.X: Kind(
        collector="newsletter.collect.x", item_kind="x_post", section="x",
        required=("handle", "api_url"),
        fields=COMMON_FIELDS | {"handle", "api_url", "include_replies", "include_reposts", "max_results"}),
}

# A kind of item's section when no configured source brings that kind.
SECTION_BY_ITEM_KIND = {kind.item_kind: kind.section for kind in KINDS.values()}
WORKER_PARSERS = [kind.collector for kind in KINDS.values() if kind.parses_in_worker]
