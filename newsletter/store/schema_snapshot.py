"""Migration 6: the email an issue was sent as, frozen when its send starts."""

# Migration 6: the send snapshot (newsletter.flows.send, store.snapshots).
SNAPSHOT_V6 = """
-- What went out, written in the transaction that moves the issue from ready to sending
-- (with its delivery rows): subject, preheader, HTML and text of the one render, the
-- unsubscribe placeholder still in place. A resumed send mails these, never a fresh render,
-- so every subscriber gets the same email whatever changed in the items since. NULL until
-- the issue's send starts (and for issues sent before this migration).
ALTER TABLE issues ADD COLUMN sent_subject TEXT;
ALTER TABLE issues ADD COLUMN sent_preheader TEXT;
ALTER TABLE issues ADD COLUMN sent_html TEXT;
ALTER TABLE issues ADD COLUMN sent_text TEXT;
ALTER TABLE issues ADD COLUMN snapshot_taken TEXT;   -- ISO 8601 UTC
"""
