"""Subscribers, the history of their states, and the subscribe attempt log (rate limits)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Iterator, Mapping, Sequence

from email_validator import EmailNotValidError, validate_email

from ..errors import SubscriberError
from ..model import Subscriber, SubscriberStatus, parse_utc, utc_iso

S = SubscriberStatus

# pending -> active -> unsubscribed | bounced, and the ways back: someone who left may subscribe
# again (pending) or be re-added by the operator (active); a bounced address may be fixed.
SUBSCRIBER_TRANSITIONS: Mapping[SubscriberStatus, frozenset[SubscriberStatus]] = {
    S.PENDING: frozenset({S.ACTIVE, S.UNSUBSCRIBED}),
    S.ACTIVE: frozenset({S.UNSUBSCRIBED, S.BOUNCED}),
    S.UNSUBSCRIBED: frozenset({S.PENDING, S.ACTIVE}),
    S.BOUNCED: frozenset({S.PENDING, S.ACTIVE, S.UNSUBSCRIBED}),
}


@dataclass(frozen=True)
class Address:
    email: str  # the normalised form: the key for dedupe, search and display
    ascii: str  # the same address as it goes on the wire (IDNA domain)


@dataclass(frozen=True)
class SubscriberEvent:
    at: datetime
    from_status: SubscriberStatus | None  # None: the subscriber was created
    to_status: SubscriberStatus
    how: str


def normalise_address(raw: str) -> Address:
    """Syntax-check an address (no DNS) and return its normalised forms.

    The whole address is lower-cased: the local part is case-sensitive only in theory, and
    treating Foo@ and foo@ as two subscribers would mail one person twice. Local parts must
    be ASCII (few relays accept SMTPUTF8); internationalised domains are fine. The reserved
    `.test` domain is allowed, as it is for the sender: a staging setup mails its own test
    addresses through its own relay. Other special-use names (.localhost, .invalid, .onion,
    .local) stay refused: no relay delivers there.
    """
    text = (raw or "").strip()
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False, test_environment=True)
    except EmailNotValidError as e:
        raise SubscriberError(f"not a valid address: {e}", email=text[:200]) from e
    if checked.ascii_email is None:  # only with SMTPUTF8, which is refused above
        raise SubscriberError("the address has no ASCII form", email=text[:200])
    return Address(email=checked.normalized.lower(), ascii=checked.ascii_email.lower())


_COLUMNS = "id, email, status, created, changed, how"


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(id=row["id"], email=row["email"], status=SubscriberStatus(row["status"]),
                      created=parse_utc(row["created"]), changed=parse_utc(row["changed"]),
                      how=row["how"])


def get(conn: sqlite3.Connection, subscriber_id: int) -> Subscriber | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE id = ?", (subscriber_id,)).fetchone()
    return _subscriber(row) if row else None


def get_by_email(conn: sqlite3.Connection, email: str) -> Subscriber | None:
    """The subscriber with this (already normalised) address."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE email = ?", (email,)).fetchone()
    return _subscriber(row) if row else None


def find_many(conn: sqlite3.Connection, emails: Sequence[str]) -> dict[str, Subscriber]:
    """The subscribers among these normalised addresses, by address."""
    found: dict[str, Subscriber] = {}
    for start in range(0, len(emails), 500):
        chunk = list(emails[start:start + 500])
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE email IN ({marks})", chunk):
            found[row["email"]] = _subscriber(row)
    return found


def create(conn: sqlite3.Connection, address: Address, status: SubscriberStatus, how: str,
           now: datetime) -> Subscriber:
    """Add a new subscriber and the first line of their history. Call inside a transaction."""
    stamp = utc_iso(now)
    try:
        subscriber_id = conn.execute(
            "INSERT INTO subscribers (email, email_ascii, status, created, changed, how) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (address.email, address.ascii, status.value, stamp, stamp, how)).lastrowid
    except sqlite3.IntegrityError as e:
        raise SubscriberError("already a subscriber", email=address.email) from e
    conn.execute("INSERT INTO subscriber_events (subscriber_id, at, from_status, to_status, how) "
                 "VALUES (?, ?, NULL, ?, ?)", (subscriber_id, stamp, status.value, how))
    return get(conn, subscriber_id)


def set_status(conn: sqlite3.Connection, subscriber_id: int, status: SubscriberStatus, how: str,
               now: datetime) -> Subscriber:
    """Move a subscriber to `status` and record when and how; a move to the current state
    changes nothing. Raise SubscriberError for a move the state machine forbids."""
    current = get(conn, subscriber_id)
    if current is None:
        raise SubscriberError(f"no subscriber {subscriber_id}")
    if current.status is status:
        return current
    if status not in SUBSCRIBER_TRANSITIONS[current.status]:
        raise SubscriberError(f"is {current.status}; cannot become {status}", email=current.email)
    stamp = utc_iso(now)
    conn.execute("UPDATE subscribers SET status = ?, changed = ?, how = ? WHERE id = ?",
                 (status.value, stamp, how, subscriber_id))
    conn.execute("INSERT INTO subscriber_events (subscriber_id, at, from_status, to_status, how) "
                 "VALUES (?, ?, ?, ?, ?)", (subscriber_id, stamp, current.status.value, status.value, how))
    return get(conn, subscriber_id)


def history(conn: sqlite3.Connection, subscriber_id: int) -> list[SubscriberEvent]:
    rows = conn.execute("SELECT at, from_status, to_status, how FROM subscriber_events "
                        "WHERE subscriber_id = ? ORDER BY id", (subscriber_id,))
    return [SubscriberEvent(at=parse_utc(r["at"]),
                            from_status=SubscriberStatus(r["from_status"]) if r["from_status"] else None,
                            to_status=SubscriberStatus(r["to_status"]), how=r["how"]) for r in rows]


def _where(status: SubscriberStatus | None, search: str | None) -> tuple[str, list]:
    clauses, params = [], []
    if status:
        clauses.append("status = ?")
        params.append(status.value)
    if search:
        # the stored form is lower-case, so a lower-cased needle finds Hangul domains and all
        clauses.append("instr(email, ?) > 0")
        params.append(search.strip().lower())
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_subscribers(conn: sqlite3.Connection, *, status: SubscriberStatus | None = None,
                     search: str | None = None, limit: int | None = None,
                     offset: int = 0) -> list[Subscriber]:
    """Subscribers, newest first, filtered by state and by a substring of the address."""
    where, params = _where(status, search)
    sql = f"SELECT {_COLUMNS} FROM subscribers{where} ORDER BY id DESC"
    if limit:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return [_subscriber(row) for row in conn.execute(sql, params)]


def count_matching(conn: sqlite3.Connection, *, status: SubscriberStatus | None = None,
                   search: str | None = None) -> int:
    where, params = _where(status, search)
    return conn.execute(f"SELECT count(*) FROM subscribers{where}", params).fetchone()[0]


def iter_all(conn: sqlite3.Connection) -> Iterator[Subscriber]:
    """Every subscriber, oldest first, without holding them all in memory."""
    last = 0
    while True:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE id > ? ORDER BY id LIMIT 1000",
                            (last,)).fetchall()
        if not rows:
            return
        yield from (_subscriber(row) for row in rows)
        last = rows[-1]["id"]


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many subscribers are in each state (every state present, zero or not)."""
    found = dict(conn.execute("SELECT status, count(*) FROM subscribers GROUP BY status").fetchall())
    return {status.value: found.get(status.value, 0) for status in SubscriberStatus}


# --- the subscribe attempt log ----------------------------------------------------------------

def record_attempt(conn: sqlite3.Connection, ip_hash: str, email: str, now: datetime) -> None:
    conn.execute("INSERT INTO subscribe_attempts (ip_hash, email, at) VALUES (?, ?, ?)",
                 (ip_hash, email, utc_iso(now)))


def attempts_since(conn: sqlite3.Connection, since: datetime, *, ip_hash: str | None = None,
                   email: str | None = None) -> int:
    column, value = ("ip_hash", ip_hash) if ip_hash is not None else ("email", email)
    return conn.execute(f"SELECT count(*) FROM subscribe_attempts WHERE {column} = ? AND at > ?",
                        (value, utc_iso(since))).fetchone()[0]


def prune_attempts(conn: sqlite3.Connection, before: datetime) -> int:
    return conn.execute("DELETE FROM subscribe_attempts WHERE at < ?", (utc_iso(before),)).rowcount


def add_many(conn: sqlite3.Connection, addresses: Iterable[Address], status: SubscriberStatus, how: str,
             now: datetime) -> int:
    """Create subscribers for addresses not yet known (bulk import); return how many were new.
    Call inside a transaction."""
    stamp = utc_iso(now)
    added = 0
    for address in addresses:
        cursor = conn.execute(
            "INSERT OR IGNORE INTO subscribers (email, email_ascii, status, created, changed, how) "
            "VALUES (?, ?, ?, ?, ?, ?)", (address.email, address.ascii, status.value, stamp, stamp, how))
        if cursor.rowcount:
            added += 1
            conn.execute("INSERT INTO subscriber_events (subscriber_id, at, from_status, to_status, how) "
                         "VALUES (?, ?, NULL, ?, ?)", (cursor.lastrowid, stamp, status.value, how))
    return added
