"""The database schema: one commented SQL string per numbered migration.

`PRAGMA user_version` holds how many migrations a file has had; `migrate` applies the rest,
each in its own transaction. Never edit a released migration: append a new one.
"""

from __future__ import annotations

# Migration 1: items, their mentions and tags, source health and the run log.
SCHEMA_V1 = """
-- One row per real-world thing, keyed by its canonical key: arxiv:<id without version>,
-- x:<status id>, else the canonical URL (text.item_key).
CREATE TABLE items (
    id               INTEGER PRIMARY KEY,
    key              TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL CHECK (kind IN ('post', 'paper', 'x_post')),
    source_id        TEXT NOT NULL,              -- the source that first brought it
    url              TEXT NOT NULL,
    title            TEXT NOT NULL,
    summary_html     TEXT NOT NULL DEFAULT '',   -- sanitised with nh3 before it got here
    summary_text     TEXT NOT NULL DEFAULT '',
    authors          TEXT NOT NULL DEFAULT '[]', -- JSON array of names
    categories       TEXT NOT NULL DEFAULT '[]', -- JSON array
    meta             TEXT NOT NULL DEFAULT '{}', -- JSON: arXiv version, X handle, image, ...
    published        TEXT NOT NULL,              -- ISO 8601 UTC, as all datetimes here
    first_seen       TEXT NOT NULL,
    refreshed        TEXT NOT NULL,              -- last time its first source re-sent it
    -- Everything below belongs to the curator: a re-fetch never writes it.
    status           TEXT NOT NULL DEFAULT 'new'
                     CHECK (status IN ('new', 'approved', 'rejected', 'snoozed', 'published')),
    status_changed   TEXT,
    snoozed_until    TEXT,
    title_override   TEXT,
    commentary       TEXT NOT NULL DEFAULT '',
    section_override TEXT,
    edited           TEXT
);
CREATE INDEX items_by_status ON items (status, published DESC);
CREATE INDEX items_by_source ON items (source_id, published DESC);

-- The curator's hashtags, in the order typed.
CREATE TABLE item_tags (
    item_id  INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (item_id, tag)
);
CREATE INDEX item_tags_by_tag ON item_tags (tag);

-- Every (source, url) that pointed at an item: the same paper from two arXiv listings and
-- an X post is one item with three mentions. Keyed by item key rather than id so that a
-- post can mention a paper that has not been collected yet.
CREATE TABLE mentions (
    item_key   TEXT NOT NULL,
    source_id  TEXT NOT NULL,
    url        TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    PRIMARY KEY (item_key, source_id, url)
) WITHOUT ROWID;

-- Health and fetch state of each configured source.
CREATE TABLE sources (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL,
    etag                 TEXT,
    last_modified        TEXT,
    last_attempt         TEXT,
    last_success         TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    items_last_run       INTEGER NOT NULL DEFAULT 0,
    state                TEXT NOT NULL DEFAULT '{}' -- JSON, kind-specific (X user id, since_id)
);

-- One row per job run (collect, later send and archive), with its per-source detail.
CREATE TABLE runs (
    id       INTEGER PRIMARY KEY,
    job      TEXT NOT NULL,
    started  TEXT NOT NULL,
    finished TEXT,
    outcome  TEXT,                               -- ok | partial | failed
    detail   TEXT NOT NULL DEFAULT '{}',         -- JSON
    error    TEXT
);
CREATE INDEX runs_by_job ON runs (job, started DESC);
"""

# Migrations 2-7, one module each beside this one: 2 the editor (users, drafts, picks,
# full-text search), 3 issues, 4 subscribers and deliveries, 5 source alerts, 6 the email
# an issue was sent as, 7 the ranker's scores, 8 "done for today" and the backfill window
# (a Python step: it widens a CHECK constraint), 9 model drafts, 10 what a mention says
# (HF upvotes) and Bluesky posts (a Python step too).
from .schema_drafts import DRAFTS_V9  # noqa: E402
from .schema_editor import EDITOR_V2  # noqa: E402
from .schema_issues import ISSUES_V3  # noqa: E402
from .schema_mail import MAIL_V4  # noqa: E402
from .schema_mentions import mentions_v10  # noqa: E402
from .schema_ops import OPS_V5  # noqa: E402
from .schema_rank import RANK_V7  # noqa: E402
from .schema_snapshot import SNAPSHOT_V6  # noqa: E402
from .schema_triage import triage_v8  # noqa: E402

# A migration is SQL, or a function of (connection, statement splitter) for what SQL cannot say.
MIGRATIONS: tuple = (SCHEMA_V1, EDITOR_V2, ISSUES_V3, MAIL_V4, OPS_V5, SNAPSHOT_V6, RANK_V7, triage_v8,
                     DRAFTS_V9, mentions_v10)
