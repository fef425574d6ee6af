"""Migration 2: curator accounts, API tokens, sessions, drafts, picks order, full-text search."""

# Migration 2: everything the editor queue keeps beside the items.
EDITOR_V2 = """
-- Curator accounts. password_hash is 'scrypt$<n>$<r>$<p>$<salt>$<hash>' (store/users.py).
CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash    TEXT NOT NULL,
    created          TEXT NOT NULL,
    password_changed TEXT NOT NULL
);

-- API tokens for scripts (`newsletter user token NAME`): only the SHA-256 of a token is
-- kept, the token itself is shown once.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created    TEXT NOT NULL,
    last_used  TEXT
);

-- Login sessions. The cookie carries the signed session id; this table only its SHA-256,
-- so a copy of the database does not hold live sessions. Logout deletes the row.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf    TEXT NOT NULL,                       -- the token every POST of this session carries
    created TEXT NOT NULL,
    expires TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Every login attempt, for rate limiting by client address.
CREATE TABLE login_attempts (
    id     INTEGER PRIMARY KEY,
    client TEXT NOT NULL,
    name   TEXT NOT NULL,
    at     TEXT NOT NULL,
    ok     INTEGER NOT NULL
);
CREATE INDEX login_attempts_by_client ON login_attempts (client, at);

-- What a curator is typing about an item, saved as they type, until they save the item:
-- a reload, a crash or an expired session loses nothing.
CREATE TABLE drafts (
    item_id        INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    commentary     TEXT NOT NULL DEFAULT '',
    tags           TEXT NOT NULL DEFAULT '',     -- as typed: '#언어모델 #scaling-law'
    title_override TEXT NOT NULL DEFAULT '',
    saved          TEXT NOT NULL,
    PRIMARY KEY (item_id, user_id)
);

-- Further reading the curator attaches to an item, in order.
CREATE TABLE related_links (
    item_id  INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    url      TEXT NOT NULL,
    title    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (item_id, position)
);

-- The order of today's picks: approved items for the next issue. An approved item without
-- a row here (approved elsewhere) comes after those with one.
CREATE TABLE picks (
    item_id  INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);

-- Each triage decision, so a curator can undo their last ones (and see who did what).
CREATE TABLE triage_log (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER REFERENCES users (id) ON DELETE SET NULL,
    item_id            INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    from_status        TEXT NOT NULL,
    from_snoozed_until TEXT,
    from_pick_position INTEGER,
    to_status          TEXT NOT NULL,
    at                 TEXT NOT NULL,
    undone             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX triage_log_by_user ON triage_log (user_id, id);

-- Small program state, e.g. the generated session secret when NEWSLETTER_SECRET is unset.
CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Full-text search over what the curator reads and writes. The trigram tokenizer matches
-- any substring of three or more characters, so Korean words are found inside compounds
-- ("언어모델" in "대규모언어모델"); shorter queries fall back to LIKE (store/queue.py).
CREATE VIRTUAL TABLE items_fts USING fts5 (
    title, title_override, summary_text, commentary,
    content = 'items', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER items_fts_after_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, title_override, summary_text, commentary)
    VALUES (new.id, new.title, new.title_override, new.summary_text, new.commentary);
END;
CREATE TRIGGER items_fts_after_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, title_override, summary_text, commentary)
    VALUES ('delete', old.id, old.title, old.title_override, old.summary_text, old.commentary);
END;
-- Only these columns: a status change (approve) does not touch the index.
CREATE TRIGGER items_fts_after_update AFTER UPDATE OF title, title_override, summary_text, commentary
ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, title_override, summary_text, commentary)
    VALUES ('delete', old.id, old.title, old.title_override, old.summary_text, old.commentary);
    INSERT INTO items_fts (rowid, title, title_override, summary_text, commentary)
    VALUES (new.id, new.title, new.title_override, new.summary_text, new.commentary);
END;
INSERT INTO items_fts (items_fts) VALUES ('rebuild');

-- Items waiting for a decision are read by status; snoozed ones also by when they wake.
CREATE INDEX items_by_snooze ON items (status, snoozed_until);
"""
