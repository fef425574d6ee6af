"""Every error the newsletter raises on purpose derives from NewsletterError.

    NewsletterError
    ├── ConfigError          bad sources.yaml or environment; names file, source id and field
    ├── StoreError           the SQLite file cannot be opened or migrated
    └── SourceError          one source failed; carries source_id
        ├── FetchError       the HTTP exchange failed (status, timeout, size, redirects)
        │   └── RateLimited  429/503 whose Retry-After exceeds what we are willing to wait
        └── ParseError       the payload came but is not what the source kind expects

Errors carry the identity of what failed and chain their cause (`raise ... from e`).
"""

from __future__ import annotations


class NewsletterError(Exception):
    """Root of the newsletter's errors."""


class ConfigError(NewsletterError):
    def __init__(self, message: str, *, path: str = "", source_id: str = "", field: str = ""):
        self.path = path
        self.source_id = source_id
        self.field = field
        where = ": ".join(
            part
            for part in (
                path,
                f"source {source_id!r}" if source_id else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class StoreError(NewsletterError):
    pass


class SourceError(NewsletterError):
    def __init__(self, message: str, *, source_id: str = "", url: str = ""):
        self.source_id = source_id
        self.url = url
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.source_id}: {self.message}" if self.source_id else self.message


class FetchError(SourceError):
    def __init__(self, message: str, *, source_id: str = "", url: str = "", status: int | None = None):
        super().__init__(message, source_id=source_id, url=url)
        self.status = status


class RateLimited(FetchError):
    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ParseError(SourceError):
    pass
