"""Migration 5: which source alerts the curator has been mailed about."""

# Migration 5: the scheduler's memory of source alerts (newsletter.flows.monitor).
OPS_V5 = """
-- One row per source alert while it lasts (newsletter.flows.monitor: a source failing for a day,
-- or quiet though it usually brings items). A collect that still sees the alert leaves its
-- row alone, so the curator is mailed once, not every two hours; when the alert is gone the
-- row is closed (`cleared`), and if it comes back later it is a new row and a new mail.
-- Job runs themselves are in `runs` (migration 1): collect, send, archive and alerts, with
-- outcome ok | partial | failed | skipped | refused (the reason in detail.reason).
CREATE TABLE source_alerts (
    id         INTEGER PRIMARY KEY,
    source_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,                  -- failing | quiet
    message    TEXT NOT NULL,                  -- the latest wording (failure counts change)
    raised     TEXT NOT NULL,                  -- ISO 8601 UTC, as all datetimes here
    mailed     TEXT,                           -- when the curator was told; NULL: not yet (tried again)
    mail_error TEXT,                           -- why the last try to tell them failed
    cleared    TEXT                            -- when a collect no longer saw it
);
CREATE UNIQUE INDEX source_alerts_open ON source_alerts (source_id, kind) WHERE cleared IS NULL;
"""
