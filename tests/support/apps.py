"""The one App factory (a config preset, a real SQLite file in a test's directory, the
environment a test area needs) and what tests put into an App: items from the real fixtures,
a curator, active subscribers, an issue ready to send."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from newsletter.app import App, build_app
from newsletter.model import Entry, IssueStatus, ItemKind, ItemStatus
from newsletter.store import issues as issue_store
from newsletter.store import items as item_store
from newsletter.store import transaction
from newsletter.store import users as user_store
from newsletter.store.items import upsert_entries

from support.clock import MORNING
from support.config import OFFLINE, write_config
from support.fixtures import feed_entries, paper_entries

SECRET = "test-secret-그대로-두지-마세요"
CURATOR, PASSWORD = "지수", "한글 비밀번호 1234"
KARPATHY_POST = "https://x.com/karpathy/status/1814339947722158085"
VOCABULARY_PAPER = "arxiv:2407.13623"  # Scaling Laws with Vocabulary

# preset -> (database file name, environment): what each test area has always used
APP_DEFAULTS = {
    None: ("test.db", {}),
    "collect": ("test.db", {}),
    "editor": ("editor.db", {}),
    "mail_editor": ("editor.db", {"NEWSLETTER_SECRET": SECRET}),
    "mail": ("mail.db", {"NEWSLETTER_SECRET": SECRET}),
    "ops": ("ops.db", {"NEWSLETTER_SECRET": SECRET}),
    "render": ("render.db", {"X_BEARER_TOKEN": "test-token"}),
}


def app_for(directory: Path, preset: str | None = "collect", sink=None, *, clock=None, environ: dict | None = None,
            db: str | None = None, base_url: str = OFFLINE, sources=None, **sections) -> App:
    """An App on a real SQLite file in `directory`, its sources.yaml written from `preset`
    (support.config: `sources` and `sections` over it). `environ` replaces the preset's
    environment; with `sink` (a support.smtp.SmtpSink) NEWSLETTER_SMTP_URL points at it."""
    default_db, default_environ = APP_DEFAULTS[preset]
    config = write_config(directory / "sources.yaml", preset, base_url=base_url, sources=sources, **sections)
    environment = dict(default_environ if environ is None else environ)
    if sink is not None:
        environment["NEWSLETTER_SMTP_URL"] = sink.url
    kwargs = {"clock": clock} if clock else {}
    return build_app(directory / (db or default_db), config, environ=environment, **kwargs)


# --- what goes into an App ---------------------------------------------------------------------

def seed(app: App, *, labs: int = 4, papers: int = 4, now: datetime = MORNING) -> None:
    """Real items: the newest OpenAI posts, a DeepMind post, arXiv papers, and @karpathy's post
    pointing at the vocabulary paper (a mention across sources)."""
    with transaction(app.conn):
        upsert_entries(app.conn, "openai", feed_entries("openai-news-rss-2025-07-28.xml", "openai", now)[:labs], now)
        upsert_entries(app.conn, "deepmind", feed_entries("google-deepmind-blog-rss-2025-07.xml", "deepmind", now)[:1],
                       now)
        upsert_entries(app.conn, "arxiv-ai", paper_entries(now)[:papers], now)
        upsert_entries(app.conn, "x-karpathy", [], now, extra_mentions=[(VOCABULARY_PAPER, KARPATHY_POST)])


def add_curator(app: App, name: str = CURATOR, password: str = PASSWORD) -> None:
    with transaction(app.conn):
        user_store.create_user(app.conn, name, user_store.hash_password(password, n=2**10), app.clock())


def readers(n: int) -> list[str]:
    return [f"reader{i:02d}@example.com" for i in range(n)]


def add_active(app, addresses, now) -> None:
    from newsletter.flows.roster import add_addresses

    results = add_addresses(app.subscriptions, addresses, now, how="cli")
    assert all(r.outcome.value == "added" for r in results), results


def ready_issue(conn, issue_date: date, now):
    """A real issue in the store (one approved paper in it), marked ready."""
    key = f"arxiv:2407.{issue_date.toordinal() % 100000:05d}"
    with transaction(conn):
        item_store.upsert_entries(conn, "arxiv-ai", [Entry(key=key, kind=ItemKind.PAPER,
                                                           title="Scaling Laws with Vocabulary",
                                                           url="https://arxiv.org/abs/2407.13623")], now)
        item = item_store.get_item_by_key(conn, key)
        item_store.set_status(conn, item.id, ItemStatus.APPROVED, now)
        issue = issue_store.create_issue(conn, issue_date, now)
        issue_store.set_items(conn, issue.id, [item.id], now)
        return issue_store.set_status(conn, issue.id, IssueStatus.READY, now)


def item_id(where, key: str = "", *, source: str = "", nth: int = 0) -> int:
    """An item's id by key, or the nth newest of a source; `where` is an App or a connection."""
    conn = getattr(where, "conn", where)
    if key:
        return conn.execute("SELECT id FROM items WHERE key = ?", (key,)).fetchone()[0]
    return item_store.list_items(conn, source_id=source)[nth].id
