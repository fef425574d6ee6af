"""Fixtures for every test module. Helpers live in tests/support/ (imported as `support.*`,
tests/ being on sys.path under pytest's rootdir-relative import mode); no test module imports
another."""

from __future__ import annotations

import pytest

from newsletter.demo.server import SnapshotServer
from support.apps import app_for
from support.browser import CHROMIUM, CHROMIUM_ARGS, missing_tool
from support.issues import collected_app
from support.web import Editors


@pytest.fixture
def server():
    with SnapshotServer() as running:
        yield running


@pytest.fixture
def make_app(tmp_path):
    """make_app(sources, environ=None, clock=None, **collect) -> App on a real SQLite file in tmp_path."""
    apps = []

    def make(sources: list[dict], environ: dict | None = None, clock=None, **collect):
        app = app_for(tmp_path, "collect", sources=sources, environ=environ or {}, clock=clock, collect=collect)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def editor(tmp_path, server):
    """editor(seeded=True, labs=4, papers=4, allow_private=False, secure_cookies=True,
    login_attempts=10) -> support.web.Editor: the editor preset's sources on the loopback
    SnapshotServer `server`, seeded with real items and one curator, under uvicorn."""
    editors = Editors(tmp_path)
    yield lambda **options: editors.editor(server.base_url, **options)
    editors.close()


@pytest.fixture
def mail_editor(tmp_path):
    """mail_editor(site_url=None, smtp=True, secret=True, web={...}, mail={...}) -> Editor:
    seeded with the real fixture items and one curator; its mail goes to a fresh SmtpSink."""
    editors = Editors(tmp_path)
    yield editors.mail_editor
    editors.close()


@pytest.fixture
def issue_app(tmp_path, server):
    """An app holding everything the fixtures give, collected for real (support.issues)."""
    app = collected_app(tmp_path, server)
    yield app
    app.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser).

    Module-scoped: Playwright's sync API keeps an event loop running in this thread while it
    is open, and asyncio.run in a later test module would refuse to start beside it."""
    if not CHROMIUM.exists():
        missing_tool("/usr/bin/chromium is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
