"""What the operator does (CLI and admin page): add, remove, import from CSV, export to CSV.

Addresses the operator adds or imports become active: the operator vouches for them. With
`pending=True` they get the double opt-in mail instead and stay pending until they confirm.
Someone who unsubscribed themselves is never re-added by the operator (OPTED_OUT): only
they can subscribe again. Someone the operator removed can be re-added.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Iterable, Sequence, TextIO

from ..errors import MailError, SubscriberError
from ..model import Subscriber, SubscriberStatus, utc_iso
from ..store import subscribers as subscriber_store
from ..store import transaction
from ..store.subscribers import Address
from .subscribe import Subscriptions

S = SubscriberStatus
OPERATOR_HOWS = frozenset({"cli", "import", "admin"})
EMAIL_HEADERS = frozenset({"email", "e-mail", "email address", "mail", "address", "이메일", "메일",
                           "이메일 주소", "주소"})


class AddOutcome(StrEnum):
    ADDED = "added"  # new, active
    ACTIVATED = "activated"  # known (pending, bounced, or removed by the operator), now active
    INVITED = "invited"  # pending, the opt-in mail sent
    ALREADY = "already"  # already active: nothing changed
    OPTED_OUT = "opted_out"  # unsubscribed themselves: left alone
    INVALID = "invalid"
    MAIL_FAILED = "mail_failed"  # pending, but the opt-in mail did not go


@dataclass(frozen=True)
class AddResult:
    given: str
    email: str
    outcome: AddOutcome
    detail: str = ""

    def as_json(self) -> dict:
        return {"given": self.given, "email": self.email, "outcome": self.outcome.value, "detail": self.detail}


def _opted_out(subscriber: Subscriber) -> bool:
    return subscriber.status is S.UNSUBSCRIBED and subscriber.how not in OPERATOR_HOWS


def _apply(subs: Subscriptions, address: Address, given: str, now: datetime, how: str,
           pending: bool) -> tuple[AddResult, Subscriber | None]:
    """One address, inside the caller's transaction; returns the subscriber to invite, if any."""
    conn = subs.conn
    found = subscriber_store.get_by_email(conn, address.email)
    if found is not None and found.status is S.ACTIVE:
        return AddResult(given, address.email, AddOutcome.ALREADY), None
    if found is not None and _opted_out(found):
        return AddResult(given, address.email, AddOutcome.OPTED_OUT,
                         f"unsubscribed themselves ({found.how}) on {utc_iso(found.changed)}; only they "
                         "can subscribe again"), None
    target = S.PENDING if pending else S.ACTIVE
    if found is None:
        subscriber = subscriber_store.create(conn, address, target, how, now)
        outcome = AddOutcome.ADDED
    else:
        subscriber = subscriber_store.set_status(conn, found.id, target, how, now)
        outcome = AddOutcome.ACTIVATED
    if pending:
        return AddResult(given, address.email, AddOutcome.INVITED), subscriber
    return AddResult(given, address.email, outcome), None


def add_addresses(subs: Subscriptions, addresses: Iterable[str], now: datetime, *, how: str = "cli",
                  pending: bool = False) -> list[AddResult]:
    """Add each address (active, or pending with the opt-in mail); one bad address never
    stops the others. The opt-in mails go after the database is written."""
    results: list[AddResult] = []
    to_invite: list[tuple[int, Subscriber]] = []
    with transaction(subs.conn):
        for given in addresses:
            try:
                address = subscriber_store.normalise_address(given)
            except SubscriberError as e:
                results.append(AddResult(given, "", AddOutcome.INVALID, str(e)))
                continue
            result, invite = _apply(subs, address, given, now, how, pending)
            results.append(result)
            if invite is not None:
                to_invite.append((len(results) - 1, invite))
    for index, subscriber in to_invite:
        try:
            subs.send_confirmation(subscriber, now)
        except MailError as e:
            result = results[index]
            results[index] = AddResult(result.given, result.email, AddOutcome.MAIL_FAILED, str(e))
    return results


class RemoveOutcome(StrEnum):
    REMOVED = "removed"
    ALREADY = "already"
    NOT_FOUND = "not_found"
    INVALID = "invalid"


def remove_addresses(subs: Subscriptions, addresses: Iterable[str], now: datetime, *,
                     how: str = "cli") -> list[tuple[str, RemoveOutcome]]:
    """Unsubscribe each address on the operator's word. The record stays (with how and
    when), so a later import cannot silently bring the address back unnoticed."""
    results = []
    with transaction(subs.conn):
        for given in addresses:
            try:
                address = subscriber_store.normalise_address(given)
            except SubscriberError:
                results.append((given, RemoveOutcome.INVALID))
                continue
            found = subscriber_store.get_by_email(subs.conn, address.email)
            if found is None:
                results.append((given, RemoveOutcome.NOT_FOUND))
            elif found.status is S.UNSUBSCRIBED:
                results.append((given, RemoveOutcome.ALREADY))
            else:
                subscriber_store.set_status(subs.conn, found.id, S.UNSUBSCRIBED, how, now)
                results.append((given, RemoveOutcome.REMOVED))
    return results


# --- CSV ------------------------------------------------------------------------------------------

class RowVerdict(StrEnum):
    NEW = "new"
    EXISTS = "exists"  # known already; `status` says in which state
    DUPLICATE = "duplicate"  # the same normalised address earlier in the file
    INVALID = "invalid"


@dataclass(frozen=True)
class ImportRow:
    line: int  # 1-based line in the file
    given: str
    email: str  # normalised ('' if invalid)
    verdict: RowVerdict
    status: SubscriberStatus | None = None  # for EXISTS
    detail: str = ""

    def as_json(self) -> dict:
        return {"line": self.line, "given": self.given, "email": self.email, "verdict": self.verdict.value,
                "status": self.status.value if self.status else None, "detail": self.detail}


@dataclass(frozen=True)
class ImportPreview:
    rows: tuple[ImportRow, ...]
    column: str  # the header of the address column, or '#1' when the file has no header

    def count(self, verdict: RowVerdict) -> int:
        return sum(1 for row in self.rows if row.verdict is verdict)

    @property
    def unique(self) -> list[ImportRow]:
        """One row per address, invalid rows and repeats left out: what an import acts on."""
        return [row for row in self.rows if row.verdict in (RowVerdict.NEW, RowVerdict.EXISTS)]

    def as_json(self) -> dict:
        return {"column": self.column, **{v.value: self.count(v) for v in RowVerdict},
                "rows": [row.as_json() for row in self.rows]}


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else CP949: what Excel saves on a Korean Windows."""
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SubscriberError("the CSV is neither UTF-8 nor CP949 (EUC-KR); save it as UTF-8")


def _address_column(first: Sequence[str]) -> tuple[int, bool, str]:
    """(column index, whether the first row is a header, column label)."""
    for index, cell in enumerate(first):
        if cell.strip().lower() in EMAIL_HEADERS:
            return index, True, cell.strip()
    for index, cell in enumerate(first):
        if "@" in cell:
            return index, False, f"#{index + 1}"
    raise SubscriberError("no address column: name it 'email' (or 이메일) or put addresses in the first row")


def preview_import(conn, text: str) -> ImportPreview:
    """Read a CSV of addresses and say what importing it would do to each row, without
    writing anything: new, exists (in which state), duplicate in the file, or invalid."""
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    rows = [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text), dialect), 1)
            if any(cell.strip() for cell in row)]
    if not rows:
        return ImportPreview(rows=(), column="")
    column, has_header, label = _address_column(rows[0][1])
    if has_header:
        rows = rows[1:]
    parsed: list[tuple[int, str, Address | None, str]] = []
    for number, row in rows:
        given = row[column].strip() if column < len(row) else ""
        try:
            parsed.append((number, given, subscriber_store.normalise_address(given), ""))
        except SubscriberError as e:
            parsed.append((number, given, None, str(e).removeprefix(f"{given}: ")))
    known = subscriber_store.find_many(conn, [a.email for _, _, a, _ in parsed if a is not None])
    seen: dict[str, int] = {}
    out = []
    for number, given, address, problem in parsed:
        if address is None:
            out.append(ImportRow(number, given, "", RowVerdict.INVALID, detail=problem))
        elif address.email in seen:
            out.append(ImportRow(number, given, address.email, RowVerdict.DUPLICATE,
                                 detail=f"same as line {seen[address.email]}"))
        elif address.email in known:
            seen[address.email] = number
            out.append(ImportRow(number, given, address.email, RowVerdict.EXISTS, status=known[address.email].status))
        else:
            seen[address.email] = number
            out.append(ImportRow(number, given, address.email, RowVerdict.NEW))
    return ImportPreview(rows=tuple(out), column=label)


def apply_import(subs: Subscriptions, preview: ImportPreview, now: datetime, *,
                 pending: bool = False) -> list[AddResult]:
    """Import the previewed rows: each unique valid address is added as `add_addresses` would
    (how="import"). Rows are re-checked against the database at this moment."""
    return add_addresses(subs, [row.email for row in preview.unique], now, how="import", pending=pending)


EXPORT_FIELDS = ("email", "status", "created", "changed", "how")


def export_csv(conn, out: TextIO) -> int:
    """Write every subscriber as CSV (email, status, created, changed, how); return the count."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_FIELDS)
    count = 0
    for subscriber in subscriber_store.iter_all(conn):
        writer.writerow((subscriber.email, subscriber.status.value, utc_iso(subscriber.created),
                         utc_iso(subscriber.changed), subscriber.how))
        count += 1
    return count
