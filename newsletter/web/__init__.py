"""The curator's editor: a Starlette app over the App (store, HTTP client, settings).

    create_web_app(app) -> Starlette     the ASGI app; `lifespan` lets `newsletter serve`
                                         start more in the same process (the scheduler)
    serve(app, host, port)               run it under uvicorn until Ctrl-C

Pages: /login /queue /items/{id} /picks /add /sources /issue (the composer); JSON under /api
(see web/api.py and web/composer_api.py).
Delivery issue: /subscribers (web/subscribers.py), the composer's send controls
(web/composer_send.py, web/send_jobs.py), and the public pages anyone may use without a login:
/subscribe, /confirm/{token}, /unsubscribe/{token} (web/public.py).
Schedule issue: /runs (web/runs.py, and `with_scheduler`, the lifespan `serve` runs the
scheduler in); public: the built archive at /archive and /issues/YYYY-MM-DD/ (web/archive_site.py).
Templates and static files live in the top-level templates/web/, so a curator can restyle.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import asynccontextmanager
from typing import AsyncContextManager, AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from ..app import App
from ..errors import DatabaseDamaged
from ..store import is_damage
from . import (  # the composer page (render issue)  # /runs, /archive, /issues/YYYY-MM-DD/  # public pages, subscribers, sending
    api,
    archive_site,
    auth,
    composer,
    composer_api,
    composer_send,
    editing,
    pages,
    public,
    runs,
    subscribers,
)
from .core import SecurityHeaders, build_web
from .send_jobs import SendJobs

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # a commentary is a few sentences; nothing legitimate is bigger

Lifespan = Callable[[Starlette], AsyncContextManager[None]]


async def _http_error(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    detail = error.detail if isinstance(error, HTTPException) else "internal error"
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": detail}, status_code=status)
    return PlainTextResponse(f"{status} {detail}", status_code=status)


async def _database_error(request: Request, error: Exception) -> Response:
    """A damaged database says so, with the file to restore; any other SQLite error stays a
    logged 500 like every unexpected error."""
    if not is_damage(error):
        raise error
    message = str(DatabaseDamaged(str(request.app.state.db_path), str(error)))
    log.error("%s %s: %s", request.method, request.url.path, message)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=500)
    return PlainTextResponse(f"500 데이터베이스가 손상되었습니다. 백업에서 복원하세요.\n{message}", status_code=500)


def create_web_app(app: App, *, lifespan: Lifespan | None = None) -> Starlette:
    """The editor as an ASGI app. `lifespan` (an async context manager factory) runs around
    it: whatever else the process should run while serving starts and stops with it."""
    web = build_web(app, auth.resolve_secret(app))

    @asynccontextmanager
    async def around(starlette: Starlette) -> AsyncIterator[None]:
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(starlette):
                    yield
        finally:  # here, not after uvicorn returns: on SIGTERM it never returns (see stop_workers)
            app.stop_workers()

    starlette = Starlette(
        routes=[*auth.routes, *pages.routes, *editing.routes, *api.routes, *composer.routes, *composer_api.routes,
                *runs.routes, *archive_site.routes(app),
                *public.routes, *subscribers.routes, *composer_send.routes,
                Mount("/static", StaticFiles(directory=app.web_static_dir), name="static")],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={HTTPException: _http_error, sqlite3.DatabaseError: _database_error},
        lifespan=around,
        max_body_size=MAX_BODY_BYTES,
    )
    starlette.state.web = web
    starlette.state.db_path = app.db_path
    starlette.state.send_jobs = SendJobs()  # sends started from the composer
    return starlette


DEFAULT_FORWARDED_ALLOW_IPS = "127.0.0.1,::1"  # a reverse proxy on the same machine


def server_config(app: App, host: str = "127.0.0.1", port: int = 8000, *, lifespan: Lifespan | None = None,
                  forwarded_allow_ips: str = DEFAULT_FORWARDED_ALLOW_IPS):
    """uvicorn's configuration for `serve`. X-Forwarded-Proto and X-Forwarded-For are honoured
    only from `forwarded_allow_ips` (comma-separated addresses or networks; loopback by
    default), so https at a reverse proxy in front is seen as https (Secure cookies) and the
    visitor's address is the one rate limits count, while anyone else's headers are ignored."""
    import uvicorn

    return uvicorn.Config(create_web_app(app, lifespan=lifespan), host=host, port=port, proxy_headers=True,
                          forwarded_allow_ips=forwarded_allow_ips, log_level="info")


def serve(app: App, host: str = "127.0.0.1", port: int = 8000, *, lifespan: Lifespan | None = None,
          forwarded_allow_ips: str = DEFAULT_FORWARDED_ALLOW_IPS) -> None:
    """Run the editor under uvicorn until interrupted (see server_config)."""
    import uvicorn

    config = server_config(app, host, port, lifespan=lifespan, forwarded_allow_ips=forwarded_allow_ips)
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down for; that is a clean stop
        pass


__all__ = ["create_web_app", "serve", "server_config"]
