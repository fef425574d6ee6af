"""The public archive inside the app (no login): the static site App.build_archive writes,
served at /archive, and the email's "view in browser" link.

    /archive/...                 app.archive_dir (index.html for a directory); until the first
                                 build, a 404 that says how to build it; the build's own files
                                 (.archive-manifest.json, its lock and temporary files) are 404
    /issues/YYYY-MM-DD/          (settings.newsletter.site_url + this is the email's web link)
                                 -> /archive/issues/YYYY-MM-DD/index.html
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from ..app import App

ARCHIVE_PREFIX = "/archive"


class ArchiveFiles:
    """StaticFiles over the archive directory; before the archive exists, a plain 404 rather
    than StaticFiles' error about a missing directory. Names starting with a dot are the
    build's bookkeeping, never pages: the manifest lists every file with its hash and what it
    was made from (previews included), so it stays private."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.files = StaticFiles(directory=directory, html=True, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and any(part.startswith(".") for part in scope["path"].split("/")):
            await PlainTextResponse("404 not found", status_code=404)(scope, receive, send)
            return
        if scope["type"] == "http" and not self.directory.is_dir():
            response = PlainTextResponse("404 the archive has not been built yet: it is built after each "
                                         "scheduled send, or by `newsletter archive build`", status_code=404)
            await response(scope, receive, send)
            return
        await self.files(scope, receive, send)


async def issue_page(request: Request) -> Response:
    """The email's "view in browser" link: site_url/issues/YYYY-MM-DD/ -> the archive's page."""
    text = request.path_params["day"]
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return PlainTextResponse("404 not an issue date (YYYY-MM-DD)", status_code=404)
    if day.isoformat() != text:  # 20240719 and the like are not our links
        return PlainTextResponse("404 not an issue date (YYYY-MM-DD)", status_code=404)
    return RedirectResponse(f"{ARCHIVE_PREFIX}/issues/{day.isoformat()}/index.html", status_code=302)


PUBLIC_PATHS = ("/issues/{day}/", "/issues/{day}")  # routes anyone may use (and /archive, a mount)


def routes(app: App) -> list[BaseRoute]:
    return [
        *(Route(path, issue_page, methods=["GET"]) for path in PUBLIC_PATHS),
        Mount(ARCHIVE_PREFIX, app=ArchiveFiles(app.archive_dir), name="archive"),
    ]
