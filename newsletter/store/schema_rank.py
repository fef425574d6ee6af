"""Migration 7: the ranker's scores and reasons, one row per scored item."""

# Migration 7: ranking (newsletter.flows.rank, store.ranking).
RANK_V7 = """
-- The ranker's view of each waiting item, recomputed after collects and decisions: a score
-- (higher comes first in its section) and the reasons a curator can read. A row outlives a
-- decision harmlessly: the queue orders only waiting items by it.
CREATE TABLE item_scores (
    item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
    score   REAL NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',         -- JSON array of short Korean strings
    scored  TEXT NOT NULL                       -- ISO 8601 UTC
);
"""
