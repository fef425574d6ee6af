from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from newsletter.app import build_app
from newsletter.demo.server import SnapshotServer

FIXTURES = Path(__file__).parent / "fixtures"
RSS = "application/rss+xml; charset=utf-8"


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


def write_config(path: Path, sources: list[dict], **collect) -> Path:
    """A sources.yaml with fast, test-friendly collect settings."""
    settings = {"connect_timeout": 2, "read_timeout": 2, "arxiv_interval": 0.05, "retry_after_cap": 1,
                **collect}
    path.write_text(yaml.safe_dump({"newsletter": {"contact": "test@example.com"}, "collect": settings,
                                    "sources": sources}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def server():
    with SnapshotServer() as running:
        yield running


@pytest.fixture
def make_app(tmp_path):
    """make_app(sources, **collect) -> App on a real SQLite file in tmp_path."""
    apps = []

    def make(sources: list[dict], environ: dict | None = None, clock=None, **collect):
        config = write_config(tmp_path / "sources.yaml", sources, **collect)
        kwargs = {"clock": clock} if clock else {}
        app = build_app(tmp_path / "test.db", config, environ=environ or {}, **kwargs)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def fixed_clock(moment: datetime):
    return lambda: moment


NOW = datetime(2024, 7, 19, 9, 0, tzinfo=timezone.utc)


CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# closed network refuses; the rest make a root, headless, GPU-less run work.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def missing_tool(reason: str) -> None:
    """Skip on a developer's machine without the tool; fail under CI, where scripts/test.sh
    installs it, so a broken install can never pass as a green run with skipped tests."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


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
