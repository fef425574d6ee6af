"""Ranking the queue: the curator's decisions become the ranker's history, every waiting item
gets a score and reasons, stored for the queue to order by. Run after each collect and, off
the request path, after each decision (Rescorer coalesces a burst of them into one run)."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from ..model import Item, ItemStatus
from ..rank import Doc, Example, Label, rank
from ..store import ranking, transaction

log = logging.getLogger("newsletter.rank")

# What each decision teaches. Items still waiting are trained on as negatives every day they
# wait, as every unlabelled candidate is (arxiv-sanity-lite's trick); once the curator clears
# them ("done for today") they stay in the history as weak negatives.
LABELS = {ItemStatus.APPROVED: Label.POSITIVE, ItemStatus.PUBLISHED: Label.POSITIVE,
          ItemStatus.REJECTED: Label.NEGATIVE, ItemStatus.DISMISSED: Label.WEAK_NEGATIVE}


@dataclass(frozen=True)
class RankReport:
    scored: int
    history: int
    seconds: float


def item_doc(item: Item) -> Doc:
    """An item as the ranker sees it: the source's own title and text, never the curator's edits."""
    return Doc(id=item.key, title=item.title, abstract=item.summary_text, authors=item.authors,
               categories=item.categories)


def history(conn: sqlite3.Connection, zone: ZoneInfo) -> list[Example]:
    return [Example(item_doc(decision.item), LABELS[decision.status], decision.when.astimezone(zone).date())
            for decision in ranking.decisions(conn) if decision.status in LABELS]


def rescore(conn: sqlite3.Connection, now: datetime, zone: ZoneInfo) -> RankReport:
    """Score every waiting item from every decision so far, in one transaction."""
    started = time.perf_counter()
    examples = history(conn, zone)
    waiting = ranking.waiting_items(conn, now)
    by_key = {item.key: item.id for item in waiting}
    ranked = rank(examples, [item_doc(item) for item in waiting], now.astimezone(zone).date())
    with transaction(conn):
        scored = ranking.replace_scores(conn, [(by_key[s.id], s.score, s.reasons) for s in ranked], now)
    return RankReport(scored=scored, history=len(examples), seconds=time.perf_counter() - started)


class Rescorer:
    """Runs `run` in a thread of its own whenever asked, one run at a time: asks that come
    while it runs make one more run after it, never a queue of them."""

    def __init__(self, run: Callable[[], object]):
        self._run = run
        self._lock = threading.Lock()
        self._wanted = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        with self._lock:
            self._wanted = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="rescore", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._wanted:
                    self._thread = None
                    return
                self._wanted = False
            try:
                self._run()
            except Exception:  # the queue keeps its last scores; the next decision tries again
                log.exception("rescoring the queue failed")

    def wait(self, timeout: float | None = None) -> None:
        """Block until no run is due (for tests and shutdown)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if deadline is not None and time.monotonic() >= deadline:
                return
