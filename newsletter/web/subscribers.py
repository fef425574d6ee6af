"""The subscribers page (curator login): counts by state, search, add, remove, CSV import with a
preview, CSV export. The same library calls as `newsletter subscribers ...` (how="admin").

    GET  /subscribers?status=&q=&page=     counts, search, the list (newest first)
    POST /subscribers/add                  addresses (one a line, or separated by commas), pending?
    POST /subscribers/remove               email: unsubscribes on the curator's word (the record stays)
    POST /subscribers/import               a CSV file -> the preview: new, exists, duplicate, invalid
    POST /subscribers/import/confirm       the previewed CSV again (carried in the form) -> the import
    GET  /subscribers/export.csv           every subscriber, UTF-8 with a BOM so Excel reads Hangul

Anything that may mail (pending adds send the opt-in mail) runs in a worker thread on a
connection of its own, so the SMTP server never stalls the editor.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Callable, TypeVar
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..app import App
from ..errors import ConfigError, SubscriberError
from ..flows.roster import (
    AddOutcome,
    AddResult,
    ImportPreview,
    RowVerdict,
    add_addresses,
    apply_import,
    decode_csv,
    export_csv,
    preview_import,
    remove_addresses,
)
from ..flows.subscribe import Subscriptions
from ..model import SubscriberStatus
from ..store import subscribers as subscriber_store
from .auth import curator_page
from .core import local_path, render, web_of
from .pages import nav_counts, with_query
from .params import page_number

PER_PAGE = 100
MAX_ADDED_AT_ONCE = 1000
MAX_CSV_BYTES = 4 * 1024 * 1024  # ~100,000 addresses
IMPORT_BODY_BYTES = 2 * MAX_CSV_BYTES  # the confirm form carries the CSV again, base64-encoded
PREVIEW_ROWS_SHOWN = 500
ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")
HOW = "admin"
NOTICES = {"removed": "수신 거부로 바꿨습니다 (기록은 남습니다).", "already": "이미 수신 거부된 주소입니다.",
           "not_found": "그런 주소의 구독자가 없습니다.", "invalid": "올바른 이메일 주소가 아닙니다."}

T = TypeVar("T")


def _on_own_connection(app: App, act: Callable[[Subscriptions], T]) -> T:
    """Run `act` with the subscriber flows on a fresh connection (in a worker thread)."""
    with app.own_connection() as conn:
        return act(app.subscriptions_on(conn))


async def _with_roster(app: App, act: Callable[[Subscriptions], T]) -> T:
    # The app's cached subscriptions and its SMTP pool are built here, on the event loop, one
    # request at a time: two first requests in two worker threads could build two pools.
    # ConfigError (no NEWSLETTER_SECRET) is raised here too.
    app.subscriptions  # noqa: B018 (building it is the point)
    if app.settings.smtp_url:
        try:
            app.mailer  # noqa: B018 (building it is the point; no connection opens yet)
        except ConfigError:
            pass  # an unusable SMTP URL: each mail that needs it fails with the reason (MailError)
    return await run_in_threadpool(_on_own_connection, app, act)


def _status_filter(value: str | None) -> SubscriberStatus | None:
    try:
        return SubscriberStatus(value) if value else None
    except ValueError:
        return None


def _page(request: Request, *, error: str = "", status: int = 200, **extra) -> Response:
    web = web_of(request)
    params = request.query_params
    state = _status_filter(params.get("status"))
    search = (params.get("q") or "").strip()[:200]
    number = page_number(params)
    matching = subscriber_store.count_matching(web.conn, status=state, search=search or None)
    shown = subscriber_store.list_subscribers(web.conn, status=state, search=search or None, limit=PER_PAGE,
                                              offset=(number - 1) * PER_PAGE)
    query = {"status": state.value if state else "", "q": search}
    return render(request, "subscribers.html", {
        "counts": subscriber_store.counts(web.conn), "subscribers": shown, "matching": matching,
        "status": state.value if state else "", "search": search, "page": number,
        "pages": max(1, -(-matching // PER_PAGE)), "query": urlencode(query), "nav": nav_counts(web),
        "back": f"/subscribers?{urlencode({**query, 'page': number})}",
        "notice": NOTICES.get(params.get("notice", ""), ""), "error": error,
        "add_results": None, "import_results": None, "typed": "", **extra}, status=status)


@curator_page
async def subscribers_page(request: Request) -> Response:
    return _page(request)


def split_addresses(text: str) -> list[str]:
    return [part for part in ADDRESS_SEPARATORS.split(text) if part]


def tally(results: list[AddResult]) -> dict[str, int]:
    counts = {outcome.value: 0 for outcome in AddOutcome}
    for result in results:
        counts[result.outcome.value] += 1
    return counts


@curator_page
async def add_page(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    typed = str(form.get("addresses", ""))
    pending = form.get("pending") == "yes"
    addresses = split_addresses(typed)
    if not addresses:
        return _page(request, error="추가할 주소를 입력하세요.", status=400)
    if len(addresses) > MAX_ADDED_AT_ONCE:
        return _page(request, error=f"한 번에 {MAX_ADDED_AT_ONCE}개까지 추가할 수 있습니다. CSV 가져오기를 쓰세요.",
                     typed=typed, status=400)
    now = web.now()
    try:
        results = await _with_roster(web.app, lambda subs: add_addresses(subs, addresses, now, how=HOW,
                                                                         pending=pending))
    except ConfigError as e:
        return _page(request, error=str(e), typed=typed, status=409)
    bad = any(r.outcome in (AddOutcome.INVALID, AddOutcome.MAIL_FAILED) for r in results)
    return _page(request, add_results={"rows": results, "counts": tally(results)},
                 typed=typed if bad else "", status=400 if bad else 200)


@curator_page
async def remove_page(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    email = str(form.get("email", ""))[:400]
    back = local_path(str(form.get("next", "")), "/subscribers")
    now = web.now()
    try:
        ((_, outcome),) = await _with_roster(web.app, lambda subs: remove_addresses(subs, [email], now, how=HOW))
    except ConfigError as e:
        return _page(request, error=str(e), status=409)
    return RedirectResponse(with_query(back, notice=outcome.value), status_code=303)


# --- CSV import: preview, then confirm -------------------------------------------------------


def preview_rows(preview: ImportPreview) -> tuple[list, int]:
    """What the preview lists: every row that will not simply be added first (the ones the
    curator should look at), then new ones, PREVIEW_ROWS_SHOWN in all; and how many are left out."""
    order = {RowVerdict.INVALID: 0, RowVerdict.DUPLICATE: 1, RowVerdict.EXISTS: 2, RowVerdict.NEW: 3}
    rows = sorted(preview.rows, key=lambda row: (order[row.verdict], row.line))
    return rows[:PREVIEW_ROWS_SHOWN], max(0, len(rows) - PREVIEW_ROWS_SHOWN)


def _preview_on_own_connection(app: App, text: str) -> ImportPreview:
    with app.own_connection() as conn:
        return preview_import(conn, text)


async def _import_page(request: Request, text: str, name: str, *, error: str = "", status: int = 200) -> Response:
    web = web_of(request)
    try:  # up to MAX_CSV_BYTES of parsing and checking: a worker thread, not the event loop
        preview = await run_in_threadpool(_preview_on_own_connection, web.app, text)
    except SubscriberError as e:
        return _page(request, error=f"{name}: {e}", status=400)
    shown, left_out = preview_rows(preview)
    return render(request, "subscribers_import.html", {
        "preview": preview, "rows": shown, "left_out": left_out, "name": name, "error": error,
        "counts": {verdict.value: preview.count(verdict) for verdict in RowVerdict},
        "carried": base64.b64encode(text.encode("utf-8")).decode("ascii"), "nav": nav_counts(web)}, status=status)


@curator_page
async def import_preview_page(request: Request) -> Response:
    form = await request.form()
    upload = form.get("csv")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, error="가져올 CSV 파일을 고르세요.", status=400)
    data = await upload.read(MAX_CSV_BYTES + 1)
    name = upload.filename[:200]
    if len(data) > MAX_CSV_BYTES:
        return _page(request, error=f"{name}: {MAX_CSV_BYTES // (1024 * 1024)} MB보다 큰 파일은 나눠서 가져오세요.",
                     status=413)
    try:
        text = decode_csv(data)
    except SubscriberError as e:
        return _page(request, error=f"{name}: {e}", status=400)
    return await _import_page(request, text, name)


@curator_page
async def import_confirm_page(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    name = str(form.get("name", ""))[:200] or "CSV"
    try:
        text = base64.b64decode(str(form.get("carried", "")), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return _page(request, error="가져오기 양식이 망가졌습니다. 파일을 다시 올려 주세요.", status=400)
    if form.get("confirm") != "yes":
        return await _import_page(request, text, name, error="가져오려면 확인란에 표시하세요.", status=400)
    pending = form.get("pending") == "yes"
    now = web.now()

    def act(subs: Subscriptions) -> tuple[ImportPreview, list[AddResult]]:
        preview = preview_import(subs.conn, text)  # re-checked against the database now
        return preview, apply_import(subs, preview, now, pending=pending)

    try:
        preview, results = await _with_roster(web.app, act)
    except (ConfigError, SubscriberError) as e:
        return _page(request, error=f"{name}: {e}", status=409)
    return _page(request, import_results={
        "name": name, "counts": tally(results), "rows": [r for r in results if r.outcome is not AddOutcome.ADDED
                                                          and r.outcome is not AddOutcome.ACTIVATED],
        "duplicates": preview.count(RowVerdict.DUPLICATE), "invalid": preview.count(RowVerdict.INVALID)})


@curator_page
async def export_page(request: Request) -> Response:
    web = web_of(request)
    out = io.StringIO()
    out.write("\ufeff")  # the BOM: without it Excel reads UTF-8 as the local code page and breaks Hangul
    export_csv(web.conn, out)
    day = web.now().astimezone(web.zone).date().isoformat()
    return Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="subscribers-{day}.csv"'})


routes = [
    Route("/subscribers", subscribers_page, methods=["GET"]),
    Route("/subscribers/add", add_page, methods=["POST"]),
    Route("/subscribers/remove", remove_page, methods=["POST"]),
    Route("/subscribers/import", import_preview_page, methods=["POST"], max_body_size=IMPORT_BODY_BYTES),
    Route("/subscribers/import/confirm", import_confirm_page, methods=["POST"], max_body_size=IMPORT_BODY_BYTES),
    Route("/subscribers/export.csv", export_page, methods=["GET"]),
]
