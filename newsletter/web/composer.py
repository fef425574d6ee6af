"""The composer: the next issue as the curator arranges it, beside a live preview of its email.

    GET  /issue                  the issue's items by section (reorder, remove), subject, preheader
                                 and editor's note with their defaults, state, the preview at 600 or
                                 375 px, the text part, the size against Gmail's clipping, problems
    GET  /issue/preview.html     the email HTML exactly as it goes out, for the sandboxed iframe
    POST /issue/build|move|remove|edit|ready|draft      plain forms that redirect back
    /api/issue[/build|reorder|remove|edit|ready|draft|preview]   the same as JSON (composer_api.py)

Which issue: `date=YYYY-MM-DD`, else the earliest issue not yet sent dated today or later (the
newsletter's zone), else today's, which is read-only once it is sending or sent. Only a draft
changes; what the curator marked ready is what goes out.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from ..errors import (
    ConfigError,
    InputError,
    IssueError,
    ItemError,
    NotFound,
    RenderError,
)
from ..flows import compose
from ..model import Issue
from .auth import curator_page
from .composer_issue import (
    MOVES,
    back_to_draft,
    build,
    build_date,
    composed,
    edit,
    mark_ready,
    move,
    next_issue,
    picks_changed,
    preview_url,
    remove,
    requested_date,
    require_issue,
    sections_of,
    today,
    unsent_issues,
)
from .core import CONTENT_SECURITY_POLICY, render, web_of
from .pages import nav_counts
from .send_jobs import send_panel  # the send controls (routes in composer_send.py)

# The page frames the preview, which the editor's policy (default-src 'none') alone would refuse.
PAGE_POLICY = CONTENT_SECURITY_POLICY + "; frame-src 'self'"
# The preview carries the email's inline styles and nothing active. Only this site may frame
# it, and `sandbox` keeps it script-free and in an opaque origin even when opened on its own.
PREVIEW_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; "
                  "form-action 'none'; frame-ancestors 'self'; sandbox")

NOTICES = {
    "built": "오늘의 선택으로 호를 채웠습니다.",
    "moved": "순서를 바꿨습니다.",
    "removed": "이번 호에서 뺐습니다. 승인 상태는 그대로라 다시 채우면 돌아옵니다.",
    "saved": "저장했습니다.",
    "ready": "발송 준비됨으로 표시했습니다.",
    "draft": "초안으로 되돌렸습니다.",
    "sending": "발송을 시작했습니다: 아래 숫자가 발송을 따라갑니다.",
}
CHANGE_ERRORS = (IssueError, ItemError, RenderError, ConfigError)


def page(request: Request, issue: Issue | None, requested: date | None, *, values: dict | None = None,
         error: str = "", status: int = 200, extra: dict | None = None) -> Response:
    """The composer; `extra` adds to (or overrides) what the template gets (the send controls' answers)."""
    web = web_of(request)
    day = today(web)
    context: dict = {
        "issue": issue, "requested": requested, "today": day, "build_date": build_date(issue, requested, day),
        "others": [other for other in unsent_issues(web) if issue is None or other.id != issue.id],
        "nav": nav_counts(web), "error": error, "notice": NOTICES.get(request.query_params.get("notice", ""), ""),
    }
    if issue is not None:
        view = composed(web, issue)
        context.update({
            "view": view, "groups": sections_of(web, view.items), "preview_url": preview_url(issue),
            "size": view.size, "problems": view.problems,
            "values": values or {"subject": issue.subject, "preheader": issue.preheader, "note": issue.note},
            "back_here": "/issue?" + urlencode({"date": issue.issue_date.isoformat()}),
        })
        # test copy, "send now" and the delivery counts
        context.update({"send": send_panel(web, request.app.state.send_jobs, issue),
                        "test_to": web.settings.newsletter.contact, "send_error": "",
                        "picks_changed": picks_changed(web, issue)})
    context.update(extra or {})
    response = render(request, "composer.html", context, status=status)
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


@curator_page
async def composer_page(request: Request) -> Response:
    web = web_of(request)
    try:
        requested = requested_date(request.query_params.get("date"))
    except InputError as e:
        return page(request, None, None, error=str(e), status=400)
    return page(request, next_issue(web, requested), requested)


@curator_page
async def preview(request: Request) -> Response:
    """The email HTML as it goes out (the unsubscribe link still the per-recipient placeholder)."""
    web = web_of(request)
    try:
        issue = require_issue(web, requested_date(request.query_params.get("date")))
        html = compose.render_stored_issue(web.settings, web.conn, issue, web.app.email).html
    except InputError as e:
        return PlainTextResponse(str(e), status_code=400)
    except NotFound as e:
        return PlainTextResponse(str(e), status_code=404)
    except (RenderError, ConfigError) as e:
        return PlainTextResponse(f"the email does not render: {e}", status_code=500)
    return HTMLResponse(html, headers={"Content-Security-Policy": PREVIEW_POLICY, "X-Frame-Options": "SAMEORIGIN"})


def _back(issue_date: date, notice: str, anchor: str = "") -> RedirectResponse:
    query = urlencode({"date": issue_date.isoformat(), "notice": notice})
    return RedirectResponse(f"/issue?{query}{anchor}", status_code=303)


def _item_id(form) -> int:
    try:
        return int(str(form.get("item", "")))
    except ValueError as e:
        raise InputError(f"not an item id: {str(form.get('item', ''))[:40]!r}") from e


async def _change(request: Request, act) -> Response:
    """Run `act(web, requested date, form) -> (issue date, notice, anchor)` for the issue the form names;
    a refusal shows the composer again with the reason, nothing changed."""
    web = web_of(request)
    form = await request.form()
    requested: date | None = None
    try:
        requested = requested_date(str(form.get("date", "")))
        return _back(*act(web, requested, form))
    except InputError as e:
        return page(request, next_issue(web, requested), requested, error=str(e), status=400)
    except NotFound as e:
        return page(request, next_issue(web, requested), requested, error=str(e), status=404)
    except CHANGE_ERRORS as e:
        return page(request, next_issue(web, requested), requested, error=str(e), status=409)


@curator_page
async def build_page(request: Request) -> Response:
    def act(web, requested, form):
        return build(web, requested).issue.issue_date, "built", ""
    return await _change(request, act)


@curator_page
async def move_page(request: Request) -> Response:
    def act(web, requested, form):
        direction = str(form.get("direction", ""))
        if direction not in MOVES:
            raise InputError(f"unknown move {direction[:20]!r} (one of {', '.join(MOVES)})")
        item_id = _item_id(form)
        issue = move(web, require_issue(web, requested), item_id, MOVES[direction])
        return issue.issue_date, "moved", f"#issue-item-{item_id}"
    return await _change(request, act)


@curator_page
async def remove_page(request: Request) -> Response:
    def act(web, requested, form):
        issue = remove(web, require_issue(web, requested), _item_id(form))
        return issue.issue_date, "removed", ""
    return await _change(request, act)


@curator_page
async def edit_page(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in ("subject", "preheader", "note")}
    requested: date | None = None
    try:
        requested = requested_date(str(form.get("date", "")))
        issue = edit(web, require_issue(web, requested), **values)
    except InputError as e:  # nothing saved: the form again with what was typed
        return page(request, next_issue(web, requested), requested, values=values, error=str(e), status=400)
    except NotFound as e:
        return page(request, None, requested, error=str(e), status=404)
    except CHANGE_ERRORS as e:
        return page(request, next_issue(web, requested), requested, values=values, error=str(e), status=409)
    return _back(issue.issue_date, "saved")


@curator_page
async def ready_page(request: Request) -> Response:
    def act(web, requested, form):
        return mark_ready(web, require_issue(web, requested)).issue_date, "ready", ""
    return await _change(request, act)


@curator_page
async def draft_page(request: Request) -> Response:
    def act(web, requested, form):
        return back_to_draft(web, require_issue(web, requested)).issue_date, "draft", ""
    return await _change(request, act)


routes = [
    Route("/issue", composer_page, methods=["GET"]),
    Route("/issue/preview.html", preview, methods=["GET"]),
    Route("/issue/build", build_page, methods=["POST"]),
    Route("/issue/move", move_page, methods=["POST"]),
    Route("/issue/remove", remove_page, methods=["POST"]),
    Route("/issue/edit", edit_page, methods=["POST"]),
    Route("/issue/ready", ready_page, methods=["POST"]),
    Route("/issue/draft", draft_page, methods=["POST"]),
]
