"""Migration 4: subscribers, their history, deliveries, the subscribe log."""

MAIL_V4 = """
-- One row per address. `email` is the normalised form (store.subscribers.normalise_address:
-- syntax-checked, domain in Unicode, all lower case) and is what dedupe and search use;
-- `email_ascii` is the same address with the domain in IDNA form, as it goes on the wire.
CREATE TABLE subscribers (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    email_ascii TEXT NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
    created     TEXT NOT NULL,                -- ISO 8601 UTC, as all datetimes here
    changed     TEXT NOT NULL,                -- when status last changed
    how         TEXT NOT NULL DEFAULT ''      -- how: form, confirm, one-click, page, cli, import, admin
);
CREATE INDEX subscribers_by_status ON subscribers (status, id);

-- Every change of a subscriber's state, oldest first: who subscribed, confirmed and left, when
-- and how. Kept when the subscriber row changes so the record of consent survives.
CREATE TABLE subscriber_events (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    from_status   TEXT,                        -- NULL when the subscriber was created
    to_status     TEXT NOT NULL,
    how           TEXT NOT NULL
);
CREATE INDEX subscriber_events_by_subscriber ON subscriber_events (subscriber_id, id);

-- One row per (issue, subscriber), written before the first message of the issue goes out;
-- a crashed send resumes from the rows still pending. `message_id` is fixed when the row is
-- written, so a message sent again after a crash carries the same Message-ID. `email` is
-- the wire address at that moment. A transient failure leaves the row pending with
-- `attempts` counted and `next_attempt` set (exponential backoff); a permanent one (5xx, or
-- attempts exhausted) marks it failed with the server's reply in `last_reply`.
CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY,
    issue_id      INTEGER NOT NULL REFERENCES issues (id),
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    message_id    TEXT NOT NULL UNIQUE,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_reply    TEXT NOT NULL DEFAULT '',
    next_attempt  TEXT,                        -- a pending row is not retried before this
    sent          TEXT,
    UNIQUE (issue_id, subscriber_id)
);
CREATE INDEX deliveries_by_issue_status ON deliveries (issue_id, status, id);

-- Subscribe attempts that passed the honeypot and the syntax check, for the per-IP and
-- per-address rate limits. The IP is kept only as a keyed hash; rows older than two days go.
CREATE TABLE subscribe_attempts (
    id      INTEGER PRIMARY KEY,
    ip_hash TEXT NOT NULL,
    email   TEXT NOT NULL,                     -- normalised
    at      TEXT NOT NULL
);
CREATE INDEX subscribe_attempts_by_ip ON subscribe_attempts (ip_hash, at);
CREATE INDEX subscribe_attempts_by_email ON subscribe_attempts (email, at);
"""
