"""Collectors: one module per source kind, each a fetch step and a pure parse step.

Every kind's module offers `async collect(source, http, health, settings, now) -> Fetched`;
parsers take bytes and return data, they never fetch.
"""

from __future__ import annotations

import asyncio
import functools
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Callable, TypeVar

from ..errors import ParseError
from ..kinds import WORKER_PARSERS
from ..model import Listing


@dataclass(frozen=True)
class Fetched:
    """What one source's fetch brought: a parsed listing (empty when not modified) and
    the validators to send next time."""

    listing: Listing
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None


def load_json(content: bytes, source_id: str) -> object:
    """An API answer's JSON document; ParseError naming the source if it is not JSON."""
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise ParseError(f"not valid JSON: {e}", source_id=source_id) from e


def load_json_object(content: bytes, source_id: str) -> dict:
    doc = load_json(content, source_id)
    if not isinstance(doc, dict):
        raise ParseError("expected a JSON object", source_id=source_id)
    return doc


T = TypeVar("T")

_parsers: ProcessPoolExecutor | None = None


def _parser_pool() -> ProcessPoolExecutor:
    """Parsing feeds is pure-Python CPU work (feedparser). In a thread it would hold the GIL
    against the event loop and stall every other fetch (measured: a 50-feed collect took 2.3 s
    with threads, 1.3 s with processes), so parsers run in worker processes. forkserver, not
    fork: the parent has threads (uvicorn, test servers) that a fork would copy mid-state."""
    global _parsers
    if _parsers is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(WORKER_PARSERS)
        _parsers = ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1), mp_context=context)
    return _parsers


async def parse_off_loop(parse: Callable[..., T], *args, **kwargs) -> T:
    """Run a parser in a worker process, so the event loop stays free for other fetches
    (and for the web app, which shares the loop under `newsletter serve`).

    If the pool breaks (a worker killed by the OOM killer, say) it is replaced, and this
    one parse runs in a thread instead, so a collect never fails for that reason."""
    global _parsers
    call = functools.partial(parse, *args, **kwargs)
    loop = asyncio.get_running_loop()
    try:
        try:
            future = loop.run_in_executor(_parser_pool(), call)
        except RuntimeError:  # that pool was stopped meanwhile (stop_parsers): the next one takes it
            future = loop.run_in_executor(_parser_pool(), call)
        return await future
    except BrokenProcessPool:
        _parsers = None
        return await asyncio.to_thread(call)


def stop_parsers() -> None:
    """End the parser processes (the next parse starts new ones). A server calls this when it
    stops: uvicorn re-raises SIGTERM once it has shut down, which kills the process before
    the pool's own exit hook runs, and the workers, the forkserver and the resource tracker
    would then live on as orphans holding each other's pipes open."""
    global _parsers
    pool, _parsers = _parsers, None
    if pool is not None:  # parses under way finish first: another app in this process may await them
        pool.shutdown(wait=True)
