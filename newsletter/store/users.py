"""Curator accounts, API tokens, login sessions, login attempts and small program state.

Passwords are hashed with scrypt (hashlib, memory-hard); API tokens and session ids are
random and long, so a plain SHA-256 of them is what the database keeps.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import InputError, NotFound
from ..model import parse_utc, utc_iso

# scrypt cost: 16 MiB of memory and ~50 ms per hash here; stored with each hash, so it can
# be raised later without invalidating existing passwords.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 8
NAME_RE = re.compile(r"^[\w.-]{1,40}$")  # \w: Hangul names are fine
TOKEN_PREFIX = "nlt_"


@dataclass(frozen=True)
class User:
    id: int
    name: str
    created: datetime


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires: datetime


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024,
                            dklen=32)
    encode = base64.b64encode
    return f"scrypt${n}${r}${p}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of a password against a stored hash; False for a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), maxmem=64 * 1024 * 1024, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _user(row: sqlite3.Row) -> User:
    return User(id=row["id"], name=row["name"], created=parse_utc(row["created"]))


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")


def create_user(conn: sqlite3.Connection, name: str, password_hash: str, now: datetime) -> User:
    """A new curator; raise InputError for a bad or taken name. Hash with hash_password first
    (it is slow on purpose, so callers may run it off the event loop)."""
    if not NAME_RE.match(name):
        raise InputError(f"user name {name!r}: use 1-40 letters, digits, '.', '_' or '-'")
    if get_user(conn, name):
        raise InputError(f"user {name!r} already exists")
    stamp = utc_iso(now)
    user_id = conn.execute(
        "INSERT INTO users (name, password_hash, created, password_changed) VALUES (?, ?, ?, ?)",
        (name, password_hash, stamp, stamp)).lastrowid
    return get_user_by_id(conn, user_id)


def set_password(conn: sqlite3.Connection, name: str, password_hash: str, now: datetime) -> User:
    """Replace a curator's password and end their sessions everywhere."""
    user = get_user(conn, name)
    if user is None:
        raise NotFound(f"no user {name!r}", what=name)
    conn.execute("UPDATE users SET password_hash = ?, password_changed = ? WHERE id = ?",
                 (password_hash, utc_iso(now), user.id))
    conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
    return user


def get_user(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return _user(row) if row else None


def get_user_by_id(conn: sqlite3.Connection, user_id: int) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return _user(row) if row else None


def password_record(conn: sqlite3.Connection, name: str) -> tuple[User, str] | None:
    """The user and their stored hash, for verify_password."""
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return (_user(row), row["password_hash"]) if row else None


def list_users(conn: sqlite3.Connection) -> list[User]:
    return [_user(row) for row in conn.execute("SELECT * FROM users ORDER BY name")]


# --- API tokens ---------------------------------------------------------------------------


def create_token(conn: sqlite3.Connection, name: str, now: datetime) -> str:
    """A new API token for a user; the only time the token itself exists outside a request."""
    user = get_user(conn, name)
    if user is None:
        raise NotFound(f"no user {name!r}", what=name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute("INSERT INTO api_tokens (user_id, token_hash, created) VALUES (?, ?, ?)",
                 (user.id, _digest(token), utc_iso(now)))
    return token


def user_for_token(conn: sqlite3.Connection, token: str, now: datetime) -> User | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = conn.execute(
        "SELECT users.*, api_tokens.id AS token_id FROM api_tokens JOIN users ON users.id = api_tokens.user_id "
        "WHERE token_hash = ?", (_digest(token),)).fetchone()
    if row is None:
        return None
    conn.execute("UPDATE api_tokens SET last_used = ? WHERE id = ?", (utc_iso(now), row["token_id"]))
    return _user(row)


# --- sessions -----------------------------------------------------------------------------


def create_session(conn: sqlite3.Connection, user_id: int, now: datetime, lifetime: timedelta) -> str:
    """Start a session; return its id (what the cookie carries, signed)."""
    session_id = secrets.token_urlsafe(32)
    conn.execute("DELETE FROM sessions WHERE expires <= ?", (utc_iso(now),))
    conn.execute("INSERT INTO sessions (id_hash, user_id, csrf, created, expires) VALUES (?, ?, ?, ?, ?)",
                 (_digest(session_id), user_id, secrets.token_urlsafe(32), utc_iso(now),
                  utc_iso(now + lifetime)))
    return session_id


def get_session(conn: sqlite3.Connection, session_id: str, now: datetime) -> Session | None:
    row = conn.execute(
        "SELECT users.*, sessions.csrf, sessions.expires FROM sessions JOIN users ON users.id = sessions.user_id "
        "WHERE id_hash = ? AND expires > ?", (_digest(session_id), utc_iso(now))).fetchone()
    if row is None:
        return None
    return Session(user=_user(row), csrf=row["csrf"], expires=parse_utc(row["expires"]))


def end_session(conn: sqlite3.Connection, session_id: str) -> None:
    conn.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(session_id),))


# --- login attempts -----------------------------------------------------------------------


def record_login_attempt(conn: sqlite3.Connection, client: str, name: str, ok: bool, now: datetime) -> int:
    return conn.execute("INSERT INTO login_attempts (client, name, at, ok) VALUES (?, ?, ?, ?)",
                        (client, name[:100], utc_iso(now), int(ok))).lastrowid


def mark_login_ok(conn: sqlite3.Connection, attempt_id: int) -> None:
    conn.execute("UPDATE login_attempts SET ok = 1 WHERE id = ?", (attempt_id,))


def failed_logins_since(conn: sqlite3.Connection, client: str, since: datetime) -> int:
    return conn.execute("SELECT count(*) FROM login_attempts WHERE client = ? AND at > ? AND NOT ok",
                        (client, utc_iso(since))).fetchone()[0]


def forget_login_attempts(conn: sqlite3.Connection, before: datetime) -> None:
    conn.execute("DELETE FROM login_attempts WHERE at < ?", (utc_iso(before),))


# --- small program state ------------------------------------------------------------------


def get_value(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_value(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 (key, value))


def stored_secret(conn: sqlite3.Connection, key: str = "session_secret") -> tuple[str, bool]:
    """A random secret kept in the database, made on first use: (secret, made_now)."""
    existing = get_value(conn, key)
    if existing:
        return existing, False
    secret = secrets.token_urlsafe(48)
    conn.execute("INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)", (key, secret))
    return get_value(conn, key), True
