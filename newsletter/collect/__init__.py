"""Collectors: one module per source kind, each a fetch step and a pure parse step.

Every kind's module offers `async collect(source, http, health, settings, now) -> Fetched`;
parsers take bytes and return data, they never fetch.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Listing


@dataclass(frozen=True)
class Fetched:
    """What one source's fetch brought: a parsed listing (empty when not modified) and
    the validators to send next time."""

    listing: Listing
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
