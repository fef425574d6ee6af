"""The composer as JSON under /api/issue, guarded like the rest of /api (session + X-CSRF-Token,
or a bearer token). Every call takes an optional `date` (YYYY-MM-DD; query for GET, body for
POST); without it, the next issue as the composer page shows it.

    GET  /api/issue                      the issue: state, subject/preheader/note with defaults,
                                         items in the email's order, text part, size, problems
    GET  /api/issue/preview              {subject, preheader, html, text, size, problems}
    POST /api/issue/build                {date?} -> {issue, created, added, dropped}
    POST /api/issue/reorder              {ids: [...]}   the issue's items, each once
    POST /api/issue/remove               {id}
    POST /api/issue/edit                 {subject?, preheader?, note?}  ("" = the default)
    POST /api/issue/ready | /draft

Errors are {"error": message}: 400 bad input, 404 no such issue or item, 409 a change the
issue's state forbids (a ready issue is not reordered; nothing changes).
"""

from __future__ import annotations


from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import InputError, NotFound
from ..render import byline, section_of, web_url
from .auth import curator_api
from .composer import CHANGE_ERRORS
from .composer_issue import (
    Composed,
    back_to_draft,
    build,
    composed,
    edit,
    mark_ready,
    preview_url,
    remove,
    reorder,
    requested_date,
    require_issue,
)
from .bodies import item_id, item_ids, json_body, text
from .core import Web, json_error, web_of
from .present import safe_url


def _date_of(value: object):
    if value is not None and not isinstance(value, str):
        raise InputError("date must be a string, YYYY-MM-DD")
    return requested_date(value)


def issue_json(web: Web, view: Composed) -> dict:
    """The issue as GET /api/issue and every change answer it."""
    issue, rendered = view.issue, view.rendered
    return {
        "date": issue.issue_date.isoformat(), "number": issue.number, "status": issue.status.value,
        "editable": view.editable, "subject": rendered.subject if rendered else "",
        "subject_override": issue.subject, "default_subject": view.default_subject,
        "preheader": rendered.preheader if rendered else "", "preheader_override": issue.preheader,
        "default_preheader": view.default_preheader, "note": issue.note,
        "web_url": web_url(web.settings, issue.issue_date), "preview_url": preview_url(issue),
        "items": [{"id": item.id, "section": section_of(item, web.settings), "kind": item.kind.value,
                   "status": item.status.value, "title": item.display_title, "url": safe_url(item.url),
                   "byline": byline(item, web.settings), "commentary": item.commentary, "tags": list(item.tags)}
                  for item in view.items],
        "text": rendered.text if rendered else "",
        "size": view.size.as_json() if view.size else None, "problems": view.problems, "render_error": view.error,
    }


def _failure(error: Exception) -> JSONResponse:
    if isinstance(error, InputError):
        return json_error(400, str(error))
    if isinstance(error, NotFound):
        return json_error(404, str(error))
    return json_error(409, str(error))


def _issue(request: Request, issue, status: int = 200) -> JSONResponse:
    web = web_of(request)
    return JSONResponse(issue_json(web, composed(web, issue)), status_code=status)


@curator_api
async def get_issue(request: Request) -> Response:
    try:
        issue = require_issue(web_of(request), _date_of(request.query_params.get("date")))
    except (InputError, NotFound) as e:
        return _failure(e)
    return _issue(request, issue)


@curator_api
async def get_preview(request: Request) -> Response:
    web = web_of(request)
    try:
        view = composed(web, require_issue(web, _date_of(request.query_params.get("date"))))
    except (InputError, NotFound) as e:
        return _failure(e)
    if view.rendered is None:
        return json_error(500, f"the email does not render: {view.error}")
    rendered = view.rendered
    return JSONResponse({"date": rendered.issue_date.isoformat(), "subject": rendered.subject,
                         "preheader": rendered.preheader, "html": rendered.html, "text": rendered.text,
                         "size": view.size.as_json(), "problems": view.problems})


@curator_api
async def post_build(request: Request) -> Response:
    web = web_of(request)
    try:
        result = build(web, _date_of((await json_body(request)).get("date")))
    except (InputError, NotFound, *CHANGE_ERRORS) as e:
        return _failure(e)
    return JSONResponse({"issue": issue_json(web, composed(web, result.issue)), "created": result.created,
                         "added": list(result.added), "dropped": list(result.dropped)},
                        status_code=201 if result.created else 200)


def _text_fields(body: dict) -> dict:
    return {name: text(body, name) for name in ("subject", "preheader", "note")}


def _change(act):
    """A POST that changes the issue named in the body and answers with it."""

    @curator_api
    async def handler(request: Request) -> Response:
        web = web_of(request)
        try:
            body = await json_body(request)
            issue = act(web, require_issue(web, _date_of(body.get("date"))), body)
        except (InputError, NotFound, *CHANGE_ERRORS) as e:
            return _failure(e)
        return _issue(request, issue)

    return handler


@_change
def post_reorder(web, issue, body):
    return reorder(web, issue, item_ids(body.get("ids")))


@_change
def post_remove(web, issue, body):
    return remove(web, issue, item_id(body.get("id")))


@_change
def post_edit(web, issue, body):
    return edit(web, issue, **_text_fields(body))


@_change
def post_ready(web, issue, body):
    return mark_ready(web, issue)


@_change
def post_draft(web, issue, body):
    return back_to_draft(web, issue)


routes = [
    Route("/api/issue", get_issue, methods=["GET"]),
    Route("/api/issue/preview", get_preview, methods=["GET"]),
    Route("/api/issue/build", post_build, methods=["POST"]),
    Route("/api/issue/reorder", post_reorder, methods=["POST"]),
    Route("/api/issue/remove", post_remove, methods=["POST"]),
    Route("/api/issue/edit", post_edit, methods=["POST"]),
    Route("/api/issue/ready", post_ready, methods=["POST"]),
    Route("/api/issue/draft", post_draft, methods=["POST"]),
]
