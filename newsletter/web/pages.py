"""The curator's pages: the queue, triage buttons, undo, today's picks, source health.

Every action is a plain form POST that redirects back (so everything works without
JavaScript); static/editor.js adds the keys on top, through the JSON API.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..errors import NewsletterError, NotFound
from ..model import utc_iso
from ..render import byline
from ..sections import item_source_name
from ..store import curation
from ..store import sources as source_store
from ..store.queue import STATUS_FILTERS, QueueEntry, queue_page, waiting_count
from .auth import curator_page
from .core import current_path, local_path, render, web_of
from .params import page_number, parse_filter
from .present import hf_upvotes, seen_lines, short_summary

PER_PAGE = 50
NOTICES = {
    "undone": "되돌렸습니다.",
    "nothing-to-undo": "되돌릴 작업이 없습니다.",
    "saved": "저장했습니다.",
    "added": "새 항목을 추가했습니다.",
    "known": "이미 있는 항목입니다: 새로 만들지 않았습니다.",
    "draft-discarded": "초안을 버렸습니다.",
    "dismissed": "오늘은 여기까지: 남은 항목을 정리했습니다. u 또는 '되돌리기'로 되살립니다.",
}


def with_query(path: str, **values: str) -> str:
    """path with these query values set (others kept), fragment dropped."""
    parts = urlsplit(path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({k: v for k, v in values.items() if v is not None})
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


def card(web, entry: QueueEntry, drafted: set[int] | None = None) -> dict:
    """What the item card template needs beyond the item."""
    item = entry.item
    return {"entry": entry, "item": item, "byline": byline(item, web.settings),
            "source": item_source_name(item, web.settings), "seen": seen_lines(item, web.settings),
            "summary": short_summary(item), "has_draft": bool(drafted and item.id in drafted),
            "hf_upvotes": hf_upvotes(item),
            "related": item.related}


def nav_counts(web) -> dict:
    now = web.now()
    return {"waiting": waiting_count(web.conn, now), "picks": len(curation.picks(web.conn))}


@curator_page
async def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


@curator_page
async def queue(request: Request) -> Response:
    web = web_of(request)
    flt, problems = parse_filter(request.query_params)
    result = queue_page(web.conn, web.sections, flt, now=web.now(), zone=web.zone,
                        page=page_number(request.query_params), per_page=PER_PAGE)
    ids = [e.item.id for e in result.entries]
    drafted = curation.drafted(web.conn, request.state.curator.user.id, ids)
    groups: list[dict] = []
    counts = dict(result.section_counts)
    for entry in result.entries:
        if not groups or groups[-1]["section"] != entry.section:
            groups.append({"section": entry.section, "count": counts.get(entry.section, 0), "cards": []})
        groups[-1]["cards"].append(card(web, entry, drafted))
    here = current_path(request)
    return render(request, "queue.html", {
        "page": result, "groups": groups, "filter": flt, "problems": problems, "statuses": STATUS_FILTERS,
        "source_ids": [s.id for s in web.settings.sources],
        "page_url": lambda number: with_query(here, page=str(number)),
        "section_url": lambda name: with_query(here, section=name, page="1"),
        "order_url": lambda order: with_query(here, order=order, page="1"),
        "notice": _notice(request), "nav": nav_counts(web)})


def _notice(request: Request) -> str:
    notice = request.query_params.get("notice", "")
    count = request.query_params.get("n", "")
    if notice == "dismissed" and count.isdigit() and len(count) < 7:
        return f"오늘은 여기까지: 남은 {int(count):,}개를 넘겼습니다. u 또는 '되돌리기'로 되살립니다."
    return NOTICES.get(notice, "")


@curator_page
async def triage(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    item_id = request.path_params["item_id"]
    target = local_path(str(form.get("next", "")))
    try:
        web.desk.triage(request.state.curator.user.id, item_id, str(form.get("action", "")))
    except NotFound as e:
        return render(request, "error.html", {"title": "없는 항목", "message": str(e)}, status=404)
    except NewsletterError as e:
        return render(request, "error.html", {"title": "바꿀 수 없습니다", "message": str(e)}, status=409)
    return RedirectResponse(with_query(target) + f"#item-{item_id}", status_code=303)


@curator_page
async def undo(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    target = local_path(str(form.get("next", "")))
    try:
        restored = web.desk.undo(request.state.curator.user.id)
    except NewsletterError as e:
        return render(request, "error.html", {"title": "되돌릴 수 없습니다", "message": str(e)}, status=409)
    if restored is None:
        return RedirectResponse(with_query(target, notice="nothing-to-undo"), status_code=303)
    return RedirectResponse(with_query(target, notice="undone") + f"#item-{restored.entry.item.id}", status_code=303)


@curator_page
async def dismiss(request: Request) -> Response:
    """"오늘은 여기까지": everything still waiting in the form's section (or the whole queue)."""
    web = web_of(request)
    form = await request.form()
    target = local_path(str(form.get("next", "")))
    try:
        web.desk.dismiss(request.state.curator.user.id, section=str(form.get("section", "")).strip())
    except NewsletterError as e:
        return render(request, "error.html", {"title": "정리하지 못했습니다", "message": str(e)}, status=400)
    return RedirectResponse(with_query(target, notice="dismissed"), status_code=303)


@curator_page
async def picks(request: Request) -> Response:
    web = web_of(request)
    chosen = curation.picks(web.conn)
    cards = [card(web, QueueEntry(item=item, section=web.sections.of(item), status=item.status,
                                  snoozed_until=None)) for item in chosen]
    return render(request, "picks.html", {"cards": cards, "nav": nav_counts(web),
                                          "notice": NOTICES.get(request.query_params.get("notice", ""), "")})


MOVES = {"up": -1, "down": 1, "top": -10**6, "bottom": 10**6}


@curator_page
async def move_pick(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    item_id = request.path_params["item_id"]
    direction = str(form.get("direction", ""))
    if direction not in MOVES:
        return render(request, "error.html", {"title": "잘못된 요청", "message": f"unknown move {direction!r}"},
                      status=400)
    try:
        web.desk.move_pick(item_id, MOVES[direction])
    except NewsletterError as e:
        return render(request, "error.html", {"title": "옮길 수 없습니다", "message": str(e)}, status=409)
    return RedirectResponse(f"/picks#pick-{item_id}", status_code=303)


@curator_page
async def sources(request: Request) -> Response:
    web = web_of(request)
    health = source_store.all_health(web.conn)
    rows = []
    for source in web.settings.sources:
        h = health.get(source.id)
        rows.append({"source": source, "health": h, "disabled": web.settings.disabled_reason(source),
                     "last_success": h.last_success if h else None, "last_attempt": h.last_attempt if h else None,
                     "last_error": (h.last_error or "") if h else "",
                     "failures": h.consecutive_failures if h else 0, "items_last_run": h.items_last_run if h else 0})
    return render(request, "sources.html", {"rows": rows, "nav": nav_counts(web), "utc_iso": utc_iso})


routes = [
    Route("/", home, methods=["GET"]),
    Route("/queue", queue, methods=["GET"]),
    Route("/items/{item_id:id}/triage", triage, methods=["POST"]),
    Route("/undo", undo, methods=["POST"]),
    Route("/queue/dismiss", dismiss, methods=["POST"]),
    Route("/picks", picks, methods=["GET"]),
    Route("/picks/{item_id:id}/move", move_pick, methods=["POST"]),
    Route("/sources", sources, methods=["GET"]),
]
