"""Who is asking: login and logout, sessions in a signed cookie, API tokens, CSRF, rate limits.

Sessions live in the database (logout ends them for real); the cookie carries the session
id signed with the secret, HttpOnly and SameSite=Lax, Secure unless the request is plain
http on loopback. Every POST carries the session's CSRF token (a form field or the
X-CSRF-Token header); API-token requests need none, since no browser sends them on its own.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Awaitable, Callable
from urllib.parse import urlencode, urlsplit

from itsdangerous import BadSignature
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..app import App
from ..flows import users
from ..store import users as user_store
from ..store.users import User
from .core import json_error, local_path, render, web_of

log = logging.getLogger("newsletter.web")

SESSION_COOKIE = "nl_session"
LOGIN_COOKIE = "nl_login"  # the login form's CSRF nonce, before there is a session
SESSION_LIFETIME = timedelta(days=14)
LOGIN_FORM_LIFETIME = 2 * 3600  # seconds
RATE_WINDOW = timedelta(minutes=15)

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Curator:
    user: User
    csrf: str  # "" when the request came with an API token
    session_id: str | None = None


def resolve_secret(app: App) -> str:
    """NEWSLETTER_SECRET, else a random secret made once and kept in the database, so
    sessions survive restarts."""
    if app.settings.secret_key:
        return app.settings.secret_key
    secret, made = users.session_secret(app.conn)
    if made:
        log.warning("NEWSLETTER_SECRET is not set: generated a session secret and stored it in %s",
                    app.db_path)
    return secret


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def cookie_secure(request: Request) -> bool:
    """Secure per settings.web.secure_cookies, except over plain http on loopback (local use
    and tests), where a Secure cookie would never come back. The scheme is the one after
    uvicorn applied the proxy's forwarded headers."""
    if not web_of(request).settings.web.secure_cookies:
        return False
    if request.url.scheme == "https":
        return True
    return not _is_loopback(request.client.host if request.client else "")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate(request: Request) -> Curator | None:
    web = web_of(request)
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        user = user_store.user_for_token(web.conn, header[7:].strip(), web.now())
        return Curator(user=user, csrf="") if user else None
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        session_id = web.signer.unsign(cookie, max_age=int(SESSION_LIFETIME.total_seconds())).decode()
    except BadSignature:
        return None
    session = user_store.get_session(web.conn, session_id, web.now())
    if session is None:
        return None
    return Curator(user=session.user, csrf=session.csrf, session_id=session_id)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def csrf_ok(request: Request, curator: Curator) -> bool:
    if curator.session_id is None:
        return True  # API token: not ambient, a page on another site cannot send it
    if not _same_origin(request):
        return False
    token = request.headers.get("x-csrf-token", "")
    if not token and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        await request.body()  # kept, so the handler can still see the raw body (bodies.whole_form)
        token = str((await request.form()).get("csrf", ""))
    return bool(token) and hmac.compare_digest(token.encode(), curator.csrf.encode())


def curator_page(handler: Handler) -> Handler:
    """An HTML page: without a session, off to the login page; a POST needs the CSRF token."""

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        curator = authenticate(request)
        if curator is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            if request.method != "GET":
                target = local_path(request.query_params.get("next"), "/queue")
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        request.state.curator = curator
        if request.method == "POST" and not await csrf_ok(request, curator):
            return render(request, "error.html", {
                "title": "요청을 확인할 수 없습니다",
                "message": "The form was stale or came from another site (CSRF check failed); "
                           "nothing was changed. Reload the page and try again."}, status=403)
        return await handler(request)

    return guarded


def curator_api(handler: Handler) -> Handler:
    """A JSON endpoint: 401 without a session or token, 403 for a POST without the CSRF token."""

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        curator = authenticate(request)
        if curator is None:
            return json_error(401, "login required: a session cookie or 'Authorization: Bearer <token>'")
        request.state.curator = curator
        if request.method == "POST" and not await csrf_ok(request, curator):
            return json_error(403, "CSRF check failed: send the X-CSRF-Token header; nothing was changed")
        return await handler(request)

    return guarded


# --- login and logout ---------------------------------------------------------------------


def _login_form(request: Request, *, error: str = "", name: str = "", status: int = 200) -> Response:
    web = web_of(request)
    nonce = secrets.token_urlsafe(24)
    response = render(request, "login.html", {
        "error": error, "name": name, "login_token": web.signer.sign(nonce).decode(),
        "next": local_path(request.query_params.get("next"))}, status=status)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_LIFETIME, path="/login", httponly=True,
                        samesite="lax", secure=cookie_secure(request))
    return response


async def login_page(request: Request) -> Response:
    if authenticate(request):
        return RedirectResponse(local_path(request.query_params.get("next")), status_code=303)
    return _login_form(request)


def _login_token_ok(request: Request, token: str) -> bool:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    try:
        signed = web_of(request).signer.unsign(token, max_age=LOGIN_FORM_LIFETIME).decode()
    except BadSignature:
        return False
    return bool(nonce) and hmac.compare_digest(signed.encode(), nonce.encode()) and _same_origin(request)


@functools.cache
def _stand_in_hash() -> str:
    return user_store.hash_password(secrets.token_urlsafe(16))


def _password_matches(password: str, stored: str | None) -> bool:
    """scrypt is slow on purpose, so this runs off the event loop; an unknown name is checked
    against a stand-in hash so the answer takes as long either way."""
    if stored is None:
        user_store.verify_password(password, _stand_in_hash())
        return False
    return user_store.verify_password(password, stored)


async def login(request: Request) -> Response:
    web = web_of(request)
    form = await request.form()
    name = str(form.get("name", "")).strip()[:100]
    password = str(form.get("password", ""))
    if not _login_token_ok(request, str(form.get("csrf", ""))):
        return _login_form(request, name=name, status=403,
                           error="The login form expired or came from another site. Please try again.")
    client = client_address(request)
    now = web.now()
    limit = web.settings.web.login_attempts_per_15_min
    if user_store.failed_logins_since(web.conn, client, now - RATE_WINDOW) >= limit:
        log.warning("login rate limit reached for %s", client)
        return _login_form(request, name=name, status=429,
                           error=f"Too many failed logins from your address: wait 15 minutes "
                                 f"(at most {limit} attempts per 15 minutes).")
    attempt = users.record_attempt(web.conn, client, name, now)
    record = user_store.password_record(web.conn, name)
    valid = await asyncio.to_thread(_password_matches, password, record[1] if record else None)
    if not valid:
        return _login_form(request, name=name, status=401, error="Wrong name or password.")
    session_id = users.open_session(web.conn, attempt, record[0].id, now, SESSION_LIFETIME)
    response = RedirectResponse(local_path(str(form.get("next", ""))), status_code=303)
    response.set_cookie(SESSION_COOKIE, web.signer.sign(session_id).decode(),
                        max_age=int(SESSION_LIFETIME.total_seconds()), path="/", httponly=True, samesite="lax",
                        secure=cookie_secure(request))
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@curator_page
async def logout(request: Request) -> Response:
    web = web_of(request)
    curator: Curator = request.state.curator
    if curator.session_id:
        users.end_session(web.conn, curator.session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
