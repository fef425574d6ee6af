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

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Sequence
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
from ..model import Issue, IssueStatus, Item, RenderedIssue
from ..render import (
    SizeReport,
    byline,
    email_problems,
    local_date,
    ordered,
    render_issue,
    section_of,
    size_report,
    subject_line,
)
from ..render.context import preheader_line
from ..sections import item_source_name
from ..store import curation
from ..store import issues as issue_store
from .auth import curator_page
from .core import CONTENT_SECURITY_POLICY, Web, render, web_of
from .pages import nav_counts
from .send_jobs import send_panel  # the send controls (routes in composer_send.py)

# The page frames the preview, which the editor's policy (default-src 'none') alone would refuse.
PAGE_POLICY = CONTENT_SECURITY_POLICY + "; frame-src 'self'"
# The preview carries the email's inline styles and nothing active. Only this site may frame
# it, and `sandbox` keeps it script-free and in an opaque origin even when opened on its own.
PREVIEW_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; "
                  "form-action 'none'; frame-ancestors 'self'; sandbox")

MOVES = {"up": -1, "down": 1, "top": -10**6, "bottom": 10**6}
MAX_SUBJECT = 300
MAX_PREHEADER = 300
NOTICES = {
    "built": "오늘의 선택으로 호를 채웠습니다 (built from picks).",
    "moved": "순서를 바꿨습니다 (moved).",
    "removed": "이번 호에서 뺐습니다 (removed). 승인 상태는 그대로라 다시 채우면 돌아옵니다.",
    "saved": "저장했습니다 (saved).",
    "ready": "발송 준비됨으로 표시했습니다 (ready).",
    "draft": "초안으로 되돌렸습니다 (back to draft).",
    "sending": "발송을 시작했습니다 (sending): 아래 숫자가 발송을 따라갑니다.",
}
CHANGE_ERRORS = (IssueError, ItemError, RenderError, ConfigError)


# --- which issue ---------------------------------------------------------------------------


def requested_date(value: str | None) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise InputError(f"not a date (YYYY-MM-DD): {value[:40]!r}") from e


def today(web: Web) -> date:
    return local_date(web.now(), web.settings)


def unsent_issues(web: Web) -> list[Issue]:
    """Drafts, ready and sending issues, oldest date first (few: sent ones are not read)."""
    found = [issue for status in (IssueStatus.DRAFT, IssueStatus.READY, IssueStatus.SENDING)
             for issue in issue_store.list_issues(web.conn, status=status)]
    return sorted(found, key=lambda issue: issue.issue_date)


def next_issue(web: Web, requested: date | None) -> Issue | None:
    if requested is not None:
        return issue_store.get_issue_by_date(web.conn, requested)
    upcoming = [issue for issue in unsent_issues(web) if issue.issue_date >= today(web)]
    return upcoming[0] if upcoming else issue_store.get_issue_by_date(web.conn, today(web))


def require_issue(web: Web, requested: date | None) -> Issue:
    issue = next_issue(web, requested)
    if issue is None:
        raise NotFound(f"no issue dated {requested}" if requested else
                          "there is no issue yet: build one from today's picks", what=requested)
    return issue


def build_date(issue: Issue | None, requested: date | None, day: date) -> date | None:
    """The date the "build from picks" button fills: the draft shown, the date asked for, today,
    or the day after a sent issue; None for a ready issue (back to draft first)."""
    if issue is None:
        return requested or day
    if issue.status is IssueStatus.DRAFT:
        return issue.issue_date
    if issue.status is IssueStatus.READY:
        return None
    return max(issue.issue_date + timedelta(days=1), day)


# --- what the curator does: one transaction each (in compose), so a refusal changes nothing ---


def _require_draft(issue: Issue) -> None:
    if issue.status is IssueStatus.READY:
        raise IssueError("is ready; only a draft can change (put it back to draft first)",
                         issue_date=issue.issue_date)
    if issue.status is not IssueStatus.DRAFT:
        raise IssueError(f"is {issue.status}; it is read-only", issue_date=issue.issue_date)


def in_email_order(web: Web, issue: Issue) -> list[Item]:
    """The issue's items as the email shows them: by section, the curator's order within each."""
    return ordered(issue, compose.issue_items(web.conn, issue), web.settings)


def build(web: Web, requested: date | None) -> compose.BuildResult:
    return compose.build_issue(web.settings, web.conn, web.now(), requested)


def move(web: Web, issue: Issue, item_id: int, offset: int) -> Issue:
    """Move an item within its section (the email groups by section whatever the order)."""
    _require_draft(issue)
    items = in_email_order(web, issue)
    ids = [item.id for item in items]
    if item_id not in ids:
        raise NotFound(f"item {item_id} is not in issue {issue.issue_date}", what=item_id)
    section = section_of(items[ids.index(item_id)], web.settings)
    places = [n for n, item in enumerate(items) if section_of(item, web.settings) == section]
    in_section = [ids[n] for n in places]
    position = in_section.index(item_id)
    target = max(0, min(len(in_section) - 1, position + offset))
    if target == position:
        return issue
    in_section.insert(target, in_section.pop(position))
    for place, moved_id in zip(places, in_section):
        ids[place] = moved_id
    return compose.arrange_issue(web.conn, issue, ids, web.now())


def reorder(web: Web, issue: Issue, item_ids: Sequence[int]) -> Issue:
    """Put the issue's items in this order (kept grouped by section, as the email shows them)."""
    _require_draft(issue)
    if sorted(item_ids) != sorted(issue.item_ids):
        raise InputError(f"ids must list the items of issue {issue.issue_date} ({', '.join(map(str, issue.item_ids))}), "
                       "each once; use remove to take one out")
    items = compose.issue_items(web.conn, issue)
    grouped = [item.id for item in ordered(replace(issue, item_ids=tuple(item_ids)), items, web.settings)]
    return compose.arrange_issue(web.conn, issue, grouped, web.now())


def remove(web: Web, issue: Issue, item_id: int) -> Issue:
    _require_draft(issue)
    if item_id not in issue.item_ids:
        raise NotFound(f"item {item_id} is not in issue {issue.issue_date}", what=item_id)
    return compose.remove_from_issue(web.conn, issue, item_id, web.now())


def edit(web: Web, issue: Issue, *, subject: str | None = None, preheader: str | None = None,
         note: str | None = None) -> Issue:
    """Subject, preheader, editor's note ('' = the default; None = leave as it is)."""
    _require_draft(issue)
    for name, value, limit in (("subject", subject, MAX_SUBJECT), ("preheader", preheader, MAX_PREHEADER),
                               ("note", note, curation.MAX_COMMENTARY)):
        if value is not None and len(value) > limit:
            raise InputError(f"{name} longer than {limit:,} characters")
    return compose.edit_issue(web.conn, issue, web.now(), subject=subject.strip() if subject is not None else None,
                              preheader=preheader.strip() if preheader is not None else None,
                              note=note.strip() if note is not None else None)


def mark_ready(web: Web, issue: Issue) -> Issue:
    return compose.mark_ready(web.settings, web.conn, issue, web.now(), web.app.email)


def back_to_draft(web: Web, issue: Issue) -> Issue:
    return compose.back_to_draft(web.conn, issue, web.now())


# --- what the page and the API show --------------------------------------------------------


@dataclass(frozen=True)
class Composed:
    issue: Issue
    items: list[Item]  # in the email's order
    rendered: RenderedIssue | None  # None when it does not render; `error` says why
    error: str
    default_subject: str
    default_preheader: str
    size: SizeReport | None  # of the HTML, against Gmail's clipping
    problems: list[str]  # what would break or endanger the email in a mail client

    @property
    def editable(self) -> bool:
        return self.issue.status is IssueStatus.DRAFT


def composed(web: Web, issue: Issue) -> Composed:
    items = in_email_order(web, issue)
    try:
        rendered = render_issue(issue, items, web.settings, web.app.email)
        default_subject = subject_line(replace(issue, subject=""), web.settings)
        error = ""
    except (RenderError, ConfigError) as e:
        rendered, default_subject, error = None, "", str(e)
    default_preheader = preheader_line(replace(issue, preheader=""), items, web.settings)
    return Composed(issue=issue, items=items, rendered=rendered, error=error, default_subject=default_subject,
                    default_preheader=default_preheader, size=size_report(rendered.html) if rendered else None,
                    problems=email_problems(rendered.html) if rendered else [])


def preview_url(issue: Issue) -> str:
    return "/issue/preview.html?" + urlencode({"date": issue.issue_date.isoformat()})


def sections_of(web: Web, items: Sequence[Item]) -> list[dict]:
    groups: list[dict] = []
    for position, item in enumerate(items, start=1):
        section = section_of(item, web.settings)
        if not groups or groups[-1]["section"] != section:
            groups.append({"section": section, "entries": []})
        groups[-1]["entries"].append({"item": item, "position": position, "byline": byline(item, web.settings),
                                      "source": item_source_name(item, web.settings)})
    return groups


# --- pages ---------------------------------------------------------------------------------


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
                        "test_to": web.settings.newsletter.contact, "send_error": ""})
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
