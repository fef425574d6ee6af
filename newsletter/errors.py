"""Every error the newsletter raises on purpose derives from NewsletterError.

    NewsletterError
    ├── ConfigError          bad sources.yaml or environment; names file, source id and field
    ├── StoreError           the SQLite file cannot be opened or migrated
    ├── InputError           what a person or a request sent cannot be used as it is (a form,
    │   │                    a JSON body, a pasted URL, a user name); the message says why
    │   └── RefusedAddress   a URL the editor will not fetch (not http(s), not a public address)
    ├── NotFound             no such item, issue, user or subscriber; carries what was asked for
    ├── ItemError            an item cannot be moved or changed that way; carries item_id
    │   ├── ItemLocked       it is in an issue that is ready, sending or sent
    │   ├── EditConflict     it was saved since the version the form was based on
    │   └── NotUndone        the last move could not be undone: its item moved on since
    ├── IssueError           an issue cannot be built, edited or moved that way; carries issue_date
    ├── RenderError          an issue's email cannot be rendered (template or MJML); carries issue_date
    ├── MailError            SMTP unreachable, refused our login or sender, or a message could not be
    │                        built; carries the recipient when one is concerned
    ├── SendRefused          an issue may not be sent now (not ready, already sent, past its deadline);
    │                        carries issue_id
    ├── SubscriberError      an address is not valid, or a subscriber cannot be found or moved that
    │                        way; carries email
    ├── ArchiveError         the static archive cannot be built or written; carries the path
    ├── ModelError           the model endpoint gave no usable draft; Korean first, then the detail
    └── SourceError          one source failed; carries source_id
        ├── FetchError       the HTTP exchange failed (status, timeout, size, redirects)
        │   └── RateLimited  429/503 whose Retry-After exceeds what we are willing to wait
        └── ParseError       the payload came but is not what the source kind expects

Errors carry the identity of what failed and chain their cause (`raise ... from e`). Faces
catch NewsletterError only: anything else is a bug, logged and answered with a 500.
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


class DatabaseDamaged(StoreError):
    """The SQLite file is corrupt or not a database: only a backup brings it back."""

    def __init__(self, path: str, detail: str):
        self.path, self.detail = path, detail
        super().__init__(f"the database {path} is damaged ({detail}); restore a backup "
                         "(`newsletter backup` makes them) or move the file away to start a new one")


class SourceError(NewsletterError):
    def __init__(self, message: str, *, source_id: str = "", url: str = ""):
        self.source_id = source_id
        self.url = url
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return f"{self.source_id}: {self.message}" if self.source_id else self.message


class FetchError(SourceError):
    def __init__(self, message: str, *, source_id: str = "", url: str = "", status: int | None = None,
                 detail: str = ""):
        super().__init__(message, source_id=source_id, url=url)
        self.status = status
        self.detail = detail  # the server's own explanation from an error body, if it gave one


class RateLimited(FetchError):
    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ParseError(SourceError):
    pass


# --- what a person asked for ------------------------------------------------------------
class InputError(NewsletterError):
    pass


class RefusedAddress(InputError):
    pass


class NotFound(NewsletterError):
    def __init__(self, message: str, *, what: object = None):
        self.what = what  # the id, date or name asked for
        super().__init__(message)


# --- items, issues and their rendering -------------------------------------------------
class ItemError(NewsletterError):
    def __init__(self, message: str, *, item_id: int | None = None):
        self.item_id = item_id
        super().__init__(f"item {item_id}: {message}" if item_id is not None else message)


class ItemLocked(ItemError):
    """The item is in an issue that is ready, sending or sent, so it may not change."""

    def __init__(self, item_id: int, issue_date: object, issue_status: str):
        self.issue_date = issue_date
        self.issue_status = issue_status
        hint = "; put that issue back to draft first" if issue_status == "ready" else ""
        super().__init__(f"is in the issue of {issue_date}, which is {issue_status}: it cannot change{hint}",
                         item_id=item_id)


class EditConflict(ItemError):
    """The item was saved since the version the curator's form (or draft) was based on."""

    def __init__(self, item_id: int, based_on: str, edited: str | None) -> None:
        self.based_on, self.edited = based_on, edited
        super().__init__(f"was saved at {edited} since this form was opened "
                         f"(based on {based_on or 'the unedited item'})", item_id=item_id)


class NotUndone(ItemError):
    """The last move was not undone: its item changed since. The move is used up all the same."""


class IssueError(NewsletterError):
    def __init__(self, message: str, *, issue_date: object = None):
        self.issue_date = issue_date  # a datetime.date, or None when no issue is meant
        super().__init__(f"issue {issue_date}: {message}" if issue_date is not None else message)


class RenderError(NewsletterError):
    def __init__(self, message: str, *, issue_date: object = None):
        self.issue_date = issue_date
        super().__init__(f"issue {issue_date}: {message}" if issue_date is not None else message)


# --- subscribers and sending -----------------------------------------------------------
class MailError(NewsletterError):
    def __init__(self, message: str, *, recipient: str = ""):
        self.recipient = recipient
        super().__init__(f"{recipient}: {message}" if recipient else message)


class SendRefused(NewsletterError):
    def __init__(self, message: str, *, issue_id: int | None = None, code: str | None = None):
        self.issue_id = issue_id
        self.code = code  # a flows.send.Refusal value, for the faces to word
        super().__init__(message)


class SubscriberError(NewsletterError):
    def __init__(self, message: str, *, email: str = ""):
        self.email = email
        super().__init__(f"{email}: {message}" if email else message)


# --- model drafts ------------------------------------------------------------------------
class ModelError(NewsletterError):
    def __init__(self, message: str, *, detail: str = "", status: int | None = None):
        self.detail = detail  # technical, never the key or the server's echo of it
        self.status = status
        super().__init__(f"{message} ({detail})" if detail else message)


# --- the static site of past issues ----------------------------------------------------
class ArchiveError(NewsletterError):
    def __init__(self, message: str, *, path: object = None):
        self.path = path  # the file or directory concerned
        super().__init__(f"{path}: {message}" if path is not None else message)
