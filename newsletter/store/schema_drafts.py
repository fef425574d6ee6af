"""Migration 9: model drafts of commentary, and the model calls counted against the daily cap."""

DRAFTS_V9 = """
-- The latest model draft of an item's commentary (newsletter.flows.drafts). It is a proposal:
-- the curator's saved commentary and typed drafts live elsewhere and are never written by it.
-- `prompt` is what was sent (JSON messages), so a draft can always be explained.
CREATE TABLE model_drafts (
    item_id  INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    model    TEXT NOT NULL,                     -- as the server named it
    prompt   TEXT NOT NULL,
    text     TEXT NOT NULL DEFAULT '',
    error    TEXT NOT NULL DEFAULT '',          -- why the last attempt failed ('' if it did not)
    created  TEXT NOT NULL                      -- ISO 8601 UTC
);

-- One row per request to the model, for llm.daily_max_requests.
CREATE TABLE model_calls (
    id      INTEGER PRIMARY KEY,
    item_id INTEGER REFERENCES items (id) ON DELETE SET NULL,
    at      TEXT NOT NULL,
    ok      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX model_calls_by_time ON model_calls (at);
"""
