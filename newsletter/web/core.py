"""What every part of the editor shares: the context object, templates, rendering helpers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from itsdangerous import TimestampSigner
from markupsafe import Markup
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..app import App
from ..flows.curate import Curation
from ..store.queue import Sections
from ..text import markdown_subset, sanitize_html
from .present import local_time, safe_url

# No inline script or style anywhere: the page's behaviour comes only from /static.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
                           "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


@dataclass
class Web:
    """The editor's share of the application, reachable from any request."""

    app: App
    templates: Jinja2Templates
    signer: TimestampSigner
    sections: Sections

    @property
    def settings(self):
        return self.app.settings

    @property
    def conn(self):
        return self.app.conn

    @property
    def zone(self):
        return self.app.settings.newsletter.zone

    @property
    def desk(self) -> Curation:
        return self.app.desk

    def now(self) -> datetime:
        return self.app.clock()


def build_web(app: App, secret: str) -> Web:
    env = app.web_templates
    zone = app.settings.newsletter.zone
    env.filters["safe_url"] = safe_url
    env.filters["local_time"] = lambda moment, with_time=True: local_time(moment, zone, with_time)
    env.filters["markdown"] = lambda text: Markup(markdown_subset(text or ""))
    env.filters["sanitized"] = lambda fragment: Markup(sanitize_html(fragment or ""))
    env.globals["static"] = lambda name: static_url(app.web_static_dir, name)
    return Web(app=app, templates=Jinja2Templates(env=env),
               signer=TimestampSigner(secret, salt="newsletter.web.session"), sections=app.desk.sections)


def static_url(static_dir: Path, name: str) -> str:
    """/static/NAME with a version from the file's content, so a restyle is never stale."""
    path = static_dir / name
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"
    return f"/static/{name}?v={version}"


def web_of(request: Request) -> Web:
    return request.app.state.web


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> Response:
    web = web_of(request)
    curator = getattr(request.state, "curator", None)
    full = {"settings": web.settings, "curator": curator, "csrf": curator.csrf if curator else "",
            "sections": web.sections, "here": current_path(request), **(context or {})}
    return web.templates.TemplateResponse(request, name, full, status_code=status)


def current_path(request: Request) -> str:
    """This page's path and query, for forms to come back to; a one-time notice is left out."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "notice"])
    return request.url.path + (f"?{query}" if query else "")


def local_path(target: str | None, default: str = "/queue") -> str:
    """A redirect target from a form or query: only paths on this site (no //host, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 for ch in target):
        return default
    return target


def json_error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


class SecurityHeaders:
    """CSP and friends on every response; curator pages are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A response with a policy of its own keeps it (the composer frames the email preview).
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if "x-frame-options" not in headers:
                    headers["X-Frame-Options"] = "DENY"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                if not is_static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
