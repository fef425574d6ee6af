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
    item_kind: str  # what its entries become: "post" | "paper" | "x_post" | "bluesky_post" (model.ItemKind)
    section: str  # where its items sit unless the source says otherwise
    required: tuple[str, ...]  # config fields a source of this kind must have
    fields: frozenset[str]  # config fields it may have (COMMON_FIELDS included)
    parses_in_worker: bool = False  # CPU-heavy parser: preload it in the parser processes
    api_url: str = ""  # the default of `api_url:`
    url: str = ""  # the default of `url:` (an API with one well-known address)
    handle: str = ""  # a regular expression a `handle:` must match, if the kind has handles
    handle_label: str = ""  # what such a handle is called in an error ("an X handle")


# A Bluesky handle is a domain name (alice.bsky.social, a lab's own domain) or the account's DID.
_BSKY_HANDLE = r"(?=.{3,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?" \
               r"|did:(plc|web):[A-Za-z0-9._:%-]{1,200}"


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
        fields=COMMON_FIELDS | {"handle", "api_url", "include_replies", "include_reposts", "max_results"},
        handle=r"[A-Za-z0-9_]{1,15}", handle_label="an X handle"),
    SourceKind.HF_PAPERS: Kind(
        collector="newsletter.collect.hf_papers", item_kind="paper", section="papers",
        required=(), fields=COMMON_FIELDS, url="https://huggingface.co/api/daily_papers"),
    SourceKind.BLUESKY: Kind(
        collector="newsletter.collect.bluesky", item_kind="bluesky_post", section="bluesky",
        required=("handle",), fields=COMMON_FIELDS | {"handle", "api_url", "include_reposts"},
        api_url="https://public.api.bsky.app/xrpc", handle=_BSKY_HANDLE, handle_label="a Bluesky handle"),
}

# A kind of item's section when no configured source brings that kind.
SECTION_BY_ITEM_KIND = {kind.item_kind: kind.section for kind in KINDS.values()}
WORKER_PARSERS = [kind.collector for kind in KINDS.values() if kind.parses_in_worker]
