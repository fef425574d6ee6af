"""Migration 3: issues and their items."""

ISSUES_V3 = """
-- One issue per local date (newsletter.timezone). `number` is sequential in date order:
-- a new issue is only ever created after the newest one (store.issues.create_issue).
CREATE TABLE issues (
    id         INTEGER PRIMARY KEY,
    issue_date TEXT NOT NULL UNIQUE,                  -- YYYY-MM-DD in the newsletter's zone
    number     INTEGER NOT NULL UNIQUE CHECK (number > 0),
    status     TEXT NOT NULL DEFAULT 'draft'
               CHECK (status IN ('draft', 'ready', 'sending', 'sent')),
    -- The curator's overrides; '' means "generated": the subject from
    -- newsletter.subject_template, the preheader from the first items.
    subject    TEXT NOT NULL DEFAULT '',
    preheader  TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',              -- editor's note, Markdown subset
    created    TEXT NOT NULL,                         -- ISO 8601 UTC
    changed    TEXT NOT NULL,
    sent       TEXT                                   -- when it became 'sent'
);

-- The items of an issue in the curator's order (position 0 first). The whole list is
-- rewritten when the curator reorders, so (issue, position) can stay UNIQUE.
CREATE TABLE issue_items (
    issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    item_id  INTEGER NOT NULL REFERENCES items (id),
    position INTEGER NOT NULL CHECK (position >= 0),
    PRIMARY KEY (issue_id, item_id),
    UNIQUE (issue_id, position)
) WITHOUT ROWID;
CREATE INDEX issue_items_by_item ON issue_items (item_id);
"""
