"""The JSON API under /api: the same actions as the pages, for the page's keys and for scripts.

Authentication: the session cookie plus an X-CSRF-Token header on POST, or
`Authorization: Bearer <token>` from `newsletter user token NAME`. Errors are
{"error": message} with 400 (bad input), 401, 403, 404, 409 (a move the states forbid),
422 (a page that could not be read) or 502 (a fetch that failed).
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import (
    FetchError,
    InputError,
    ModelError,
    NewsletterError,
    NotFound,
    SourceError,
)
from ..flows.add import add_by_url
from ..flows.curate import Edit
from ..flows.drafts import suggested_tags
from ..model import RelatedLink, SourceHealth, utc_iso
from ..store import curation
from ..store import sources as source_store
from ..store.queue import QueueEntry, queue_page
from ..text import normalise_tag
from .auth import curator_api
from .core import json_error, web_of
from .bodies import item_ids, json_body, text, text_or_strings
from .params import page_number, parse_filter
from .present import item_json

MAX_PER_PAGE = 200


def _one(request: Request, entry: QueueEntry) -> dict:
    web = web_of(request)
    return item_json(entry, web.settings)


def _failure(error: NewsletterError) -> JSONResponse:
    if isinstance(error, NotFound):
        return json_error(404, str(error))
    if isinstance(error, InputError):
        return json_error(400, str(error))
    if isinstance(error, FetchError):
        return json_error(502, f"could not fetch it: {error}")
    if isinstance(error, SourceError):
        return json_error(422, f"could not read it: {error}")
    return json_error(409, str(error))


@curator_api
async def list_items(request: Request) -> Response:
    web = web_of(request)
    params = request.query_params
    flt, problems = parse_filter(params)
    if problems:
        return json_error(400, "; ".join(problems))
    try:
        per_page = min(MAX_PER_PAGE, max(1, int(params.get("per_page") or 50)))
    except ValueError:
        return json_error(400, "per_page must be a number")
    result = queue_page(web.conn, web.sections, flt, now=web.now(), zone=web.zone,
                        page=page_number(params), per_page=per_page)
    return JSONResponse({
        "items": [item_json(e, web.settings) for e in result.entries],
        "total": result.total, "page": result.page, "pages": result.pages, "per_page": result.per_page,
        "sections": [{"section": name, "count": count} for name, count in result.section_counts],
    })


@curator_api
async def get_item(request: Request) -> Response:
    try:
        return JSONResponse(_one(request, web_of(request).desk.entry(request.path_params["item_id"])))
    except NewsletterError as e:
        return _failure(e)


@curator_api
async def triage(request: Request) -> Response:
    try:
        entry = web_of(request).desk.triage(request.state.curator.user.id, request.path_params["item_id"],
                               request.path_params["action"])
    except NewsletterError as e:
        return _failure(e)
    return JSONResponse(_one(request, entry))


@curator_api
async def annotate(request: Request) -> Response:
    """Any of: title_override, commentary, tags (list or text), section_override, related
    ([{url, title}] or text); fields left out stay as they are."""
    try:
        body = await json_body(request)
        edit = Edit(title_override=text(body, "title_override"), commentary=text(body, "commentary"),
                    tags=text_or_strings(body, "tags"), section_override=text(body, "section_override"),
                    related=_related(body.get("related")))
        entry = web_of(request).desk.apply_edit(request.state.curator.user.id, request.path_params["item_id"],
                                                edit, based_on=_version(body))
    except NewsletterError as e:
        return _failure(e)
    return JSONResponse(_one(request, entry))


@curator_api
async def draft(request: Request) -> Response:
    try:
        body = await json_body(request)
        saved = web_of(request).desk.save_draft(
            request.state.curator.user.id, request.path_params["item_id"],
            commentary=text(body, "commentary") or "", tags=text(body, "tags") or "",
            title_override=text(body, "title_override") or "", based_on=_version(body))
    except NewsletterError as e:
        return _failure(e)
    return JSONResponse({"saved": utc_iso(saved.saved)})


def _version(body: dict) -> str | None:
    """The item's edit version ('edited') the client's form was based on; None when not sent."""
    return text(body, "edited")


def _related(value: object) -> str | list[RelatedLink] | None:
    """'URL title' lines, or [{url, title?}] / [URL]; None when left out."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        links = []
        for link in value:
            if isinstance(link, str):
                links.append(RelatedLink(link))
            elif (isinstance(link, dict) and isinstance(link.get("url"), str)
                  and isinstance(link.get("title", ""), str)):
                links.append(RelatedLink(link["url"], link.get("title", "")))
            else:
                raise InputError("related must be text or a list of {url, title} (strings)")
        return links
    raise InputError("related must be text or a list of {url, title} (strings)")


@curator_api
async def undo(request: Request) -> Response:
    try:
        undone = web_of(request).desk.undo(request.state.curator.user.id)
    except NewsletterError as e:
        return _failure(e)
    return JSONResponse({"item": _one(request, undone.entry) if undone else None,
                         "restored": undone.restored if undone else 0})


@curator_api
async def dismiss(request: Request) -> Response:
    """{"section"?: str, "before"?: ISO datetime} -> {"dismissed": N}: "done for today"."""
    try:
        body = await json_body(request)
        section, before = body.get("section") or "", body.get("before")
        if not isinstance(section, str):
            raise InputError("section must be a string")
        if before is not None:
            if not isinstance(before, str):
                raise InputError("before must be an ISO 8601 date-time string")
            try:
                before = datetime.fromisoformat(before.replace("Z", "+00:00"))
            except ValueError as e:
                raise InputError(f"before is not an ISO 8601 date-time: {before[:40]!r}") from e
            if before.tzinfo is None:
                raise InputError("before needs a time zone (e.g. 2025-06-20T09:00:00+09:00)")
        moved = web_of(request).desk.dismiss(request.state.curator.user.id, section=section, before=before)
    except NewsletterError as e:
        return _failure(e)
    return JSONResponse({"dismissed": moved})


@curator_api
async def add_url(request: Request) -> Response:
    """{"url": "...", "section": optional} -> {"item": ..., "created": bool}."""
    try:
        body = await json_body(request)
        added = await add_by_url(web_of(request).desk, web_of(request).settings, web_of(request).app.http,
                                 str(body.get("url", "")), added_by=request.state.curator.user.name,
                                 section=str(body.get("section") or ""))
    except NewsletterError as e:
        return _failure(e)
    return JSONResponse({"item": _one(request, added.entry), "created": added.created},
                        status_code=201 if added.created else 200)


def _picks_json(request: Request, items) -> JSONResponse:
    web = web_of(request)
    return JSONResponse({"items": [
        item_json(QueueEntry(item, web.sections.of(item), item.status, None), web.settings)
        for item in items]})


@curator_api
async def list_picks(request: Request) -> Response:
    return _picks_json(request, curation.picks(web_of(request).conn))


@curator_api
async def reorder(request: Request) -> Response:
    """{"ids": [3, 1, 2]}: these picks first, in this order."""
    try:
        ids = item_ids((await json_body(request)).get("ids"))
        items = web_of(request).desk.reorder_picks(ids)
    except NewsletterError as e:
        return _failure(e)
    return _picks_json(request, items)


@curator_api
async def tags(request: Request) -> Response:
    """?q=fragment[&item=ID]: tags already used; with an item, those of the most similar past
    items first (learned from the curator, no model needed)."""
    fragment = normalise_tag(request.query_params.get("q", ""))
    raw_item = request.query_params.get("item", "")
    conn = web_of(request).conn
    if raw_item.isdigit() and len(raw_item) <= 18:
        try:
            return JSONResponse({"tags": suggested_tags(conn, int(raw_item), fragment)})
        except NewsletterError as e:
            return _failure(e)
    return JSONResponse({"tags": curation.suggest_tags(conn, fragment) if fragment else []})


@curator_api
async def suggest(request: Request) -> Response:
    """A model draft of the item's commentary: {"draft", "model", "created"}. It is stored as a
    proposal; the item's commentary and the curator's typed draft are left as they are."""
    web = web_of(request)
    try:
        found = await web.app.draft(request.path_params["item_id"])
    except ModelError as e:
        return json_error(502 if e.status is None or e.status >= 500 or e.status == 429 else 503, str(e))
    except NewsletterError as e:
        return _failure(e)
    return JSONResponse({"draft": found.text, "model": found.model, "created": utc_iso(found.created)})


@curator_api
async def health(request: Request) -> Response:
    web = web_of(request)
    found = source_store.all_health(web.conn)

    def one(source) -> dict:
        h = found.get(source.id) or SourceHealth(source_id=source.id, kind=source.kind.value)
        return {"id": source.id, "kind": source.kind.value, "section": source.section,
                "disabled_reason": web.settings.disabled_reason(source),
                "last_attempt": utc_iso(h.last_attempt) if h.last_attempt else None,
                "last_success": utc_iso(h.last_success) if h.last_success else None,
                "last_error": h.last_error, "consecutive_failures": h.consecutive_failures,
                "items_last_run": h.items_last_run}

    return JSONResponse({"sources": [one(source) for source in web.settings.sources]})


routes = [
    Route("/api/items", list_items, methods=["GET"]),
    Route("/api/items/{item_id:id}", get_item, methods=["GET"]),
    Route("/api/items/{item_id:id}/annotate", annotate, methods=["POST"]),
    Route("/api/items/{item_id:id}/draft", draft, methods=["POST"]),
    Route("/api/items/{item_id:id}/suggest", suggest, methods=["POST"]),
    Route("/api/items/{item_id:id}/{action:str}", triage, methods=["POST"]),  # approve, reject, ...
    Route("/api/undo", undo, methods=["POST"]),
    Route("/api/queue/dismiss", dismiss, methods=["POST"]),
    Route("/api/add-url", add_url, methods=["POST"]),
    Route("/api/picks", list_picks, methods=["GET"]),
    Route("/api/picks/reorder", reorder, methods=["POST"]),
    Route("/api/tags", tags, methods=["GET"]),
    Route("/api/sources", health, methods=["GET"]),
]
