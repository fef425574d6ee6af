"""The composer's send controls (the page shows them through send_jobs.send_panel):

    POST /issue/test             address: one copy marked "[테스트]" (drafts too; nothing changes)
    GET  /issue/send?date=       the confirmation page: how many it goes to, the deadline, a checkbox
    POST /issue/send             date, confirm=yes: starts the send in the background and returns at
                                 once to the composer, whose counts follow it
    GET  /api/issue/delivery?date=   {status, state, running, error, sent, failed, pending, total, failures}

Every refusal (no SMTP server or secret configured, a draft, already sent, past the deadline,
nobody subscribed, a send already running) comes back as a message, and nothing is sent.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..errors import (
    ConfigError,
    InputError,
    MailError,
    NotFound,
    RenderError,
    SendRefused,
    SubscriberError,
)
from ..flows import compose
from ..flows import send as sending
from ..model import Issue, IssueStatus
from .auth import curator_api, curator_page
from .composer import page
from .composer_issue import requested_date, require_issue
from .core import json_error, render, web_of
from .pages import nav_counts
from .send_jobs import SendJobs, send_panel, send_refusal

MAX_ADDRESS_CHARS = 320


def jobs_of(request: Request) -> SendJobs:
    return request.app.state.send_jobs


@curator_page
async def test_page(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    address = str(form.get("address", "")).strip()[:MAX_ADDRESS_CHARS]
    requested: date | None = None
    try:
        requested = requested_date(str(form.get("date", "")))
        issue = require_issue(web, requested)
    except InputError as e:
        return page(request, None, None, error=str(e), status=400)
    except NotFound as e:
        return page(request, None, requested, error=str(e), status=404)
    extra = {"test_to": address}
    try:
        rendered = compose.render_stored_issue(web.settings, web.conn, issue, web.app.email)
        reply = await run_in_threadpool(web.app.send_test_copy, rendered, address)
    except SubscriberError as e:
        return page(request, issue, requested, status=400,
                    extra={**extra, "send_error": f"받는 주소가 올바르지 않습니다: {e}"})
    except (MailError, RenderError, ConfigError) as e:
        return page(request, issue, requested, status=502 if isinstance(e, MailError) else 409,
                    extra={**extra, "send_error": f"테스트 메일을 보내지 못했습니다: {e}"})
    return page(request, issue, requested, extra={
        **extra, "notice": f"테스트 메일을 {address} 주소로 보냈습니다 (제목 앞에 [테스트]; 서버 응답: {reply})."})


def _confirm_page(request: Request, issue: Issue, *, error: str = "", status: int = 200) -> Response:
    web = web_of(request)
    panel = send_panel(web, jobs_of(request), issue)
    try:
        subject = compose.render_stored_issue(web.settings, web.conn, issue, web.app.email).subject
    except (RenderError, ConfigError) as e:
        subject, error = "", error or f"메일을 만들지 못했습니다: {e}"
    return render(request, "send_confirm.html", {
        "issue": panel.issue, "panel": panel, "subject": subject, "error": error, "nav": nav_counts(web),
        "back_here": "/issue?" + urlencode({"date": issue.issue_date.isoformat()})}, status=status)


@curator_page
async def confirm_page(request: Request) -> Response:
    web = web_of(request)
    try:
        issue = require_issue(web, requested_date(request.query_params.get("date")))
    except InputError as e:
        return page(request, None, None, error=str(e), status=400)
    except NotFound as e:
        return page(request, None, None, error=str(e), status=404)
    return _confirm_page(request, issue)


@curator_page
async def send_page(request: Request) -> Response:
    web = web_of(request)
    jobs = jobs_of(request)
    form = await request.form()
    try:
        issue = require_issue(web, requested_date(str(form.get("date", ""))))
    except InputError as e:
        return page(request, None, None, error=str(e), status=400)
    except NotFound as e:
        return page(request, None, None, error=str(e), status=404)
    if form.get("confirm") != "yes":
        return _confirm_page(request, issue, error="보내려면 확인란에 표시하세요. 아무것도 보내지 않았습니다.", status=400)
    refusal = send_refusal(web, issue, jobs)
    if refusal:
        return _confirm_page(request, issue, error=refusal, status=409)
    try:
        if issue.status is IssueStatus.READY:  # a start, not a resume: fail here, not in the thread
            compose.render_stored_issue(web.settings, web.conn, issue, web.app.email)
        with sending.send_lock(web.conn, issue):  # only a check: another process may be sending it
            pass
        jobs.start(web.app, issue)
    except SendRefused as e:
        return _confirm_page(request, issue, error=f"다른 곳에서 이 호를 발송하고 있습니다: {e}", status=409)
    except (RenderError, ConfigError) as e:
        return _confirm_page(request, issue, error=f"메일을 만들지 못했습니다: {e}", status=409)
    query = urlencode({"date": issue.issue_date.isoformat(), "notice": "sending"})
    return RedirectResponse(f"/issue?{query}#send-panel", status_code=303)


@curator_api
async def delivery_api(request: Request) -> Response:
    web = web_of(request)
    try:
        issue = require_issue(web, requested_date(request.query_params.get("date")))
    except InputError as e:
        return json_error(400, str(e))
    except NotFound as e:
        return json_error(404, str(e))
    return JSONResponse(send_panel(web, jobs_of(request), issue).as_json())


routes = [
    Route("/issue/test", test_page, methods=["POST"]),
    Route("/issue/send", confirm_page, methods=["GET"]),
    Route("/issue/send", send_page, methods=["POST"]),
    Route("/api/issue/delivery", delivery_api, methods=["GET"]),
]
