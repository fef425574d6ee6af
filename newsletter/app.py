"""The composition root: the one place that builds the store, the HTTP client and (later)
the sender and templates from configuration. Everything else receives them."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping, Sequence

from . import pipeline
from .collect.http import HttpClient
from .config import Settings, load_settings
from .model import SourceResult
from .store import connect

DEFAULT_DB = "data/newsletter.db"
DEFAULT_CONFIG = "sources.yaml"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class App:
    settings: Settings
    conn: sqlite3.Connection
    db_path: Path
    clock: Callable[[], datetime] = field(default=utc_now)

    def http(self) -> HttpClient:
        return HttpClient(self.settings.collect, self.settings.newsletter.contact)

    async def collect(self, only: Sequence[str] = (),
                      on_result: Callable[[SourceResult], None] | None = None) -> pipeline.CollectReport:
        async with self.http() as http:
            return await pipeline.collect_all(self.settings, self.conn, http, clock=self.clock,
                                              only=only, on_result=on_result)

    def close(self) -> None:
        self.conn.close()


def build_app(db_path: str | os.PathLike = DEFAULT_DB, config_path: str | os.PathLike = DEFAULT_CONFIG,
              *, environ: Mapping[str, str] | None = None,
              clock: Callable[[], datetime] = utc_now) -> App:
    """Load and validate the config first (ConfigError), then open the database (StoreError)."""
    settings = load_settings(config_path, environ)
    return App(settings=settings, conn=connect(db_path), db_path=Path(db_path), clock=clock)
