"""Curator accounts: creating them, API tokens, and the writes a login makes (the attempt, the
session). Password checks themselves are pure (store.users.verify_password) and the web face
runs them off the event loop."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from ..store import transaction
from ..store import users as user_store

FORGET_ATTEMPTS_AFTER = timedelta(days=30)


def session_secret(conn: sqlite3.Connection) -> tuple[str, bool]:
    """The secret kept in the database (made on first use); True if it was made now."""
    with transaction(conn):
        return user_store.stored_secret(conn)


def save_curator(conn: sqlite3.Connection, name: str, password: str, now: datetime, *,
                 reset: bool = False) -> user_store.User:
    """Create a curator (or, with reset, change their password and end their sessions).
    InputError for a bad or taken name or a short password."""
    user_store.check_new_password(password)
    password_hash = user_store.hash_password(password)
    with transaction(conn):
        if reset and user_store.get_user(conn, name):
            return user_store.set_password(conn, name, password_hash, now)
        return user_store.create_user(conn, name, password_hash, now)


def create_token(conn: sqlite3.Connection, name: str, now: datetime) -> str:
    """A new API token for the user (NotFound if there is none); only its hash is kept."""
    with transaction(conn):
        return user_store.create_token(conn, name, now)


def record_attempt(conn: sqlite3.Connection, client: str, name: str, now: datetime) -> int:
    """Count a login attempt as failed until it is proven right, so attempts sent in parallel
    count against each other; old attempts are forgotten on the way."""
    with transaction(conn):
        attempt = user_store.record_login_attempt(conn, client, name, False, now)
        user_store.forget_login_attempts(conn, now - FORGET_ATTEMPTS_AFTER)
    return attempt


def open_session(conn: sqlite3.Connection, attempt: int, user_id: int, now: datetime,
                 lifetime: timedelta) -> str:
    """The attempt succeeded: mark it so and start a session; returns the session id."""
    with transaction(conn):
        user_store.mark_login_ok(conn, attempt)
        return user_store.create_session(conn, user_id, now, lifetime)


def end_session(conn: sqlite3.Connection, session_id: str) -> None:
    with transaction(conn):
        user_store.end_session(conn, session_id)
