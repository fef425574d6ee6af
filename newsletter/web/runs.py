"""The runs page (/runs, curator login): the scheduled jobs' next run times, the last runs
and the sources needing a look; and the lifespan that runs the scheduler beside the editor.

    with_scheduler(app) -> lifespan     for create_web_app / serve: starts scheduler_for(app) on the
                                        server's event loop and stops it with the server
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncContextManager, AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..app import App
from ..model import parse_utc
from ..schedule import NewsletterScheduler, scheduler_for, status
from .auth import curator_page
from .core import render, web_of
from .pages import nav_counts

JOB_NAMES = {"collect": "수집 (collect)", "send": "발송 (send)", "archive": "아카이브 (archive)",
             "alerts": "소스 알림 (alerts)"}
OUTCOMES = {"ok": "성공", "partial": "일부 실패", "failed": "실패", "skipped": "건너뜀", "refused": "거부됨",
            None: "진행 중이거나 중단됨"}
ALERT_KINDS = {"failing": "하루 넘게 실패", "quiet": "평소와 달리 새 항목 없음"}


def with_scheduler(app: App) -> Callable[[Starlette], AsyncContextManager[None]]:
    """A lifespan that runs the app's scheduler while the web app serves; the runs page finds
    it on the Starlette app's state."""

    @asynccontextmanager
    async def lifespan(starlette: Starlette) -> AsyncIterator[None]:
        async with scheduler_for(app).running() as scheduler:
            starlette.state.scheduler = scheduler
            try:
                yield
            finally:
                starlette.state.scheduler = None

    return lifespan


def running_scheduler(request: Request) -> NewsletterScheduler | None:
    return getattr(request.app.state, "scheduler", None)


def summary(run: dict) -> str:
    """A run's counts in a few words."""
    detail = run["detail"]
    job = run["job"]
    if job == "collect" and "sources" in detail:
        errors = sum(1 for source in detail["sources"] if source.get("status") == "error")
        return f"새 항목 {detail.get('new', 0)}, 소스 {len(detail['sources'])} (오류 {errors})"
    if job == "send" and "sent" in detail:
        return (f"{detail.get('issue', detail.get('date', ''))}: 보냄 {detail['sent']}, 실패 {detail.get('failed', 0)}, "
                f"대기 {detail.get('pending', 0)}")
    if job == "send":
        return str(detail.get("issue", ""))
    if job == "archive" and "issues" in detail:
        return f"호 {detail['issues']}, 파일 {detail.get('files', 0)} (새로 씀 {detail.get('written', 0)})"
    if job == "alerts":
        return f"알림 {len(detail.get('alerts', []))}, 메일 {detail.get('mailed', 0)}"
    return ""


@curator_page
async def runs_page(request: Request) -> Response:
    web = web_of(request)
    scheduler = running_scheduler(request)
    report = status(web.conn, web.settings, web.now(), scheduler=scheduler)
    runs = [{**run, "name": JOB_NAMES.get(run["job"], run["job"]), "summary": summary(run),
             "outcome_label": OUTCOMES.get(run["outcome"], run["outcome"]),
             "started_at": parse_utc(run["started"]),
             "finished_at": parse_utc(run["finished"]) if run["finished"] else None}
            for run in report["runs"]]
    jobs = [{**job, "name": JOB_NAMES.get(job["id"], job["id"]),
             "next_at": parse_utc(job["next_run"]) if job["next_run"] else None} for job in report["jobs"]]
    alerts = [{**alert, "mailed_at": parse_utc(alert["mailed"]) if alert["mailed"] else None}
              for alert in report["alerts"]]
    failing = [{**source, "last_success_at": parse_utc(source["last_success"]) if source["last_success"] else None}
               for source in report["failing_sources"]]
    return render(request, "runs.html", {"report": report, "jobs": jobs, "runs": runs, "alerts": alerts,
                                         "failing": failing, "live": scheduler is not None,
                                         "alert_kinds": ALERT_KINDS, "nav": nav_counts(web)})


routes = [Route("/runs", runs_page, methods=["GET"])]
