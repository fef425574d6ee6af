"""The public pages: subscribe (double opt-in), confirm, unsubscribe. No login, no session.

    GET  /subscribe              the form: an address, and a honeypot field (`website`) people never see
    POST /subscribe              no CSRF token (the static archive's pages post here from site_url):
                                 instead the Origin (or Referer) must be this site or site_url, and the
                                 library's honeypot and rate limits come before any write or mail. The
                                 answer is the same "check your inbox" whether or not the address was
                                 known, and it shows nothing the visitor typed but the address.
    GET  /confirm/{token}        a page with a button: link scanners fetch links, and must not confirm
    POST /confirm/{token}        confirms
    GET  /unsubscribe/{token}    a page with a button
    POST /unsubscribe/{token}    unsubscribes, idempotently, with or without a cookie and without a CSRF
                                 token: RFC 8058's one-click POST (`List-Unsubscribe=One-Click`) comes
                                 from the mail provider's servers, straight to the List-Unsubscribe URL.

A forged, altered or expired link gets a page saying so (HTTP 400) and changes nothing. Anything
that mails (subscribe) runs in a worker thread on a connection of its own, so a slow SMTP server
never stalls the editor.
"""

from __future__ import annotations

import logging
from datetime import datetime
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..app import App
from ..errors import ConfigError, SubscriberError
from ..flows.subscribe import (
    LinkOutcome,
    LinkResult,
    SubscribeOutcome,
    SubscribeResult,
    Subscriptions,
)
from ..store import subscribers as subscriber_store
from .auth import client_address
from .core import render, web_of

log = logging.getLogger("newsletter.web.public")

# Paths anyone may use without logging in (the route-table test leaves them out).
PUBLIC_PATHS = ("/subscribe", "/confirm/{token}", "/unsubscribe/{token}")
MAX_ADDRESS_CHARS = 320  # RFC 5321 allows 254 on the wire; anything longer is not an address
MAX_TOKEN_CHARS = 400  # ours are ~60; a longer one is not worth verifying
ONE_CLICK = ("List-Unsubscribe", "One-Click")  # RFC 8058's POST body


def _subscriptions(app: App) -> Subscriptions | None:
    """The app's subscriber flows, or None when NEWSLETTER_SECRET is missing (links cannot be signed)."""
    try:
        return app.subscriptions
    except ConfigError as e:
        log.error("public pages unavailable: %s", e)
        return None


def _unavailable(request: Request) -> Response:
    return render(request, "public_message.html", {
        "title": "잠시 이용할 수 없습니다",
        "message": "구독 기능이 아직 준비되지 않았습니다. 나중에 다시 시도해 주세요."}, status=503)


def origin_allowed(request: Request, site_url: str) -> bool:
    """A cross-site form post carries its page's Origin (or at least a Referer): accept only
    this site and site_url (where the static archive lives). A request with neither comes
    from no web page (a script, curl), which cannot be a forgery made in someone's browser."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is None:
        return True
    parts = urlsplit(claimed.strip())
    if claimed.strip() == "null" or not parts.scheme or not parts.netloc:
        return False
    site = urlsplit(site_url)
    if (parts.scheme.lower(), parts.netloc.lower()) == (site.scheme.lower(), site.netloc.lower()):
        return True
    return parts.netloc.lower() == request.headers.get("host", "").lower()


def masked(email: str) -> str:
    """kim.minji@example.com -> ki*******@example.com: enough for the owner to recognise,
    little for whoever a forwarded link reaches."""
    local, _, domain = email.partition("@")
    keep = 2 if len(local) > 3 else 1
    return f"{local[:keep]}{'*' * max(1, len(local) - keep)}@{domain}"


# --- subscribe -----------------------------------------------------------------------------


async def subscribe_form(request: Request) -> Response:
    return render(request, "subscribe.html", {"error": ""})


def _subscribe_on_own_connection(app: App, email: str, ip: str, honeypot: str,
                                 now: datetime) -> SubscribeResult:
    with app.own_connection() as conn:
        return app.subscriptions_on(conn).subscribe(email, ip, honeypot, now)


def _shown_address(result: SubscribeResult, typed: str) -> str:
    """The address for "check your inbox": the normalised form. A honeypot answer gets it too,
    so a bot cannot tell its post was discarded."""
    if result.email:
        return result.email
    try:
        return subscriber_store.normalise_address(typed).email
    except SubscriberError:
        return ""


async def subscribe_submit(request: Request) -> Response:
    web = web_of(request)
    shared = _subscriptions(web.app)
    if shared is None or shared.mailer is None:
        if shared is not None:
            log.error("subscribe refused: no SMTP sender configured (NEWSLETTER_SMTP_URL)")
        return _unavailable(request)
    if not origin_allowed(request, web.settings.newsletter.site_url):
        log.warning("subscribe refused: posted from %r", request.headers.get("origin") or request.headers.get("referer"))
        return render(request, "subscribe.html", {
            "error": "다른 사이트에서 보낸 요청은 받을 수 없습니다. 이 페이지에서 다시 신청해 주세요."}, status=403)
    form = await request.form()
    typed = str(form.get("email", ""))
    honeypot = str(form.get("website", ""))
    if len(typed) > MAX_ADDRESS_CHARS:
        typed = ""  # the library calls it invalid; nothing this long is worth parsing
    result = await run_in_threadpool(_subscribe_on_own_connection, web.app, typed,
                                     client_address(request), honeypot, web.now())
    if result.outcome is not SubscribeOutcome.CONFIRMATION_SENT:
        log.info("subscribe: %s %s", result.outcome, result.detail)
    if result.looks_sent:
        return render(request, "subscribed.html", {"email": _shown_address(result, typed)})
    if result.outcome is SubscribeOutcome.INVALID_ADDRESS:
        return render(request, "subscribe.html", {
            "error": "올바른 이메일 주소가 아닙니다. 주소를 다시 확인해 주세요."}, status=400)
    if result.outcome is SubscribeOutcome.RATE_LIMITED:
        return render(request, "subscribe.html", {
            "error": "신청이 너무 많습니다. 한 시간쯤 뒤에 다시 시도해 주세요."}, status=429)
    return render(request, "subscribe.html", {  # MAIL_FAILED: pending, they may try again
        "error": "확인 메일을 보내지 못했습니다. 잠시 뒤에 다시 시도해 주세요."}, status=503)


# --- confirm and unsubscribe links ---------------------------------------------------------


def _token(request: Request) -> str:
    token = request.path_params["token"]
    return token if len(token) <= MAX_TOKEN_CHARS else ""


def _link_page(request: Request, kind: str, found: LinkResult) -> Response:
    """One template per link kind; `state` picks the words: valid (show the button), done,
    already, expired, invalid. Only the last two are errors (400)."""
    status = 200 if found.ok else 400
    email = masked(found.subscriber.email) if found.ok and found.subscriber else ""
    return render(request, f"{kind}.html", {"state": found.outcome.value, "email": email,
                                            "action": request.url.path}, status=status)


async def confirm_page(request: Request) -> Response:
    subs = _subscriptions(web_of(request).app)
    if subs is None:
        return _unavailable(request)
    return _link_page(request, "confirm", subs.check_confirm(_token(request), web_of(request).now()))


async def confirm_submit(request: Request) -> Response:
    subs = _subscriptions(web_of(request).app)
    if subs is None:
        return _unavailable(request)
    found = subs.confirm(_token(request), web_of(request).now())
    if found.outcome is LinkOutcome.DONE:
        log.info("subscriber %s confirmed", found.subscriber.id)
    return _link_page(request, "confirm", found)


async def unsubscribe_page(request: Request) -> Response:
    subs = _subscriptions(web_of(request).app)
    if subs is None:
        return _unavailable(request)
    return _link_page(request, "unsubscribe", subs.check_unsubscribe(_token(request), web_of(request).now()))


async def _is_one_click(request: Request) -> bool:
    """Whether the body is RFC 8058's `List-Unsubscribe=One-Click` (urlencoded or multipart).
    Only `how` depends on it: the signed URL alone is what unsubscribes."""
    try:
        form = await request.form()
    except (HTTPException, ValueError):  # a body we cannot parse still came to a valid link
        return False
    return form.get(ONE_CLICK[0]) == ONE_CLICK[1]


async def unsubscribe_submit(request: Request) -> Response:
    subs = _subscriptions(web_of(request).app)
    if subs is None:
        return _unavailable(request)
    how = "one-click" if await _is_one_click(request) else "page"
    found = subs.unsubscribe(_token(request), web_of(request).now(), how=how)
    if found.outcome is LinkOutcome.DONE:
        log.info("subscriber %s unsubscribed (%s)", found.subscriber.id, how)
    return _link_page(request, "unsubscribe", found)


routes = [
    Route("/subscribe", subscribe_form, methods=["GET"]),
    Route("/subscribe", subscribe_submit, methods=["POST"]),
    Route("/confirm/{token}", confirm_page, methods=["GET"]),
    Route("/confirm/{token}", confirm_submit, methods=["POST"]),
    Route("/unsubscribe/{token}", unsubscribe_page, methods=["GET"]),
    Route("/unsubscribe/{token}", unsubscribe_submit, methods=["POST"]),
]
