"""The one place that talks HTTP: a shared httpx client with manners.

Global and per-host concurrency limits, a minimum interval per host for sources that ask
for one (arXiv: one connection, >= 3 s apart), conditional GET, connect/read timeouts, a
body-size cap enforced while streaming, bounded redirects and Retry-After honoured within
a cap. Every failure becomes a FetchError that names the source and the URL.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit

import httpx

from .. import __version__
from ..config import CollectSettings
from ..errors import FetchError, RateLimited
from ..text import clean_text

RETRY_STATUSES = frozenset({429, 503})
MAX_RETRIES = 2


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int  # 200..299 or 304
    content: bytes
    headers: httpx.Headers
    bytes_received: int

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def user_agent(contact: str) -> str:
    return f"ai-newsletter/{__version__} (+mailto:{contact}; daily Korean AI newsletter)"


class HttpClient:
    """Share one per process; `async with HttpClient(...)` closes the pool."""

    def __init__(self, settings: CollectSettings, contact: str, *,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.bytes_received = 0
        self._global = asyncio.Semaphore(settings.concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host))
        self._paced: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last_request: dict[str, float] = {}
        self._client = httpx.AsyncClient(
            http2=False,
            follow_redirects=True,
            max_redirects=settings.max_redirects,
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            limits=httpx.Limits(max_connections=settings.concurrency,
                                max_keepalive_connections=settings.concurrency),
            headers={"User-Agent": user_agent(contact), "Accept-Encoding": "gzip, deflate"},
            transport=transport,
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, url: str, *, source_id: str = "", etag: str | None = None,
                  last_modified: str | None = None, headers: Mapping[str, str] | None = None,
                  params: Mapping[str, str] | None = None, min_interval: float = 0.0) -> Response:
        """GET a URL; raise FetchError unless the answer is 2xx or 304.

        With min_interval, requests to that host are serialised and spaced at least that
        many seconds apart (start to start), whatever else runs concurrently.
        """
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        host = urlsplit(url).netloc.lower()
        for attempt in range(MAX_RETRIES + 1):
            try:
                if min_interval > 0:
                    async with self._paced[host]:
                        await self._wait_turn(host, min_interval)
                        response = await self._limited_get(url, host, request_headers, params, source_id)
                else:
                    response = await self._limited_get(url, host, request_headers, params, source_id)
            except RateLimited as e:
                if attempt == MAX_RETRIES or e.retry_after > self.settings.retry_after_cap:
                    raise
                await asyncio.sleep(e.retry_after)
                continue
            return response
        raise AssertionError("unreachable")

    async def post_json(self, url: str, body: Any, *, source_id: str = "", headers: Mapping[str, str] | None = None,
                        timeout: float | None = None) -> Response:
        """POST a JSON body (an API call, e.g. chat completions) under the same limits; 429/503
        with Retry-After are waited out up to retry_after_cap, like a GET."""
        request_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        host = urlsplit(url).netloc.lower()
        for attempt in range(MAX_RETRIES + 1):
            try:
                return await self._limited_get(url, host, request_headers, None, source_id,
                                               method="POST", content=content, timeout=timeout)
            except RateLimited as e:
                if attempt == MAX_RETRIES or e.retry_after > self.settings.retry_after_cap:
                    raise
                await asyncio.sleep(e.retry_after)
        raise AssertionError("unreachable")

    async def _wait_turn(self, host: str, min_interval: float) -> None:
        last = self._last_request.get(host)
        if last is not None:
            delay = last + min_interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        self._last_request[host] = time.monotonic()

    async def _limited_get(self, url, host, headers, params, source_id, *, method: str = "GET",
                           content: bytes | None = None, timeout: float | None = None) -> Response:
        async with self._global, self._per_host[host]:
            try:
                return await self._get(url, headers, params, source_id, method=method, content=content,
                                       timeout=timeout)
            except FetchError:
                raise
            except httpx.ConnectTimeout as e:
                raise FetchError(f"connect timed out after {self.settings.connect_timeout:g} s: {url}",
                                 source_id=source_id, url=url) from e
            except httpx.ReadTimeout as e:
                raise FetchError(f"no answer within {timeout or self.settings.read_timeout:g} s (read timeout): {url}",
                                 source_id=source_id, url=url) from e
            except httpx.TimeoutException as e:
                raise FetchError(f"timed out: {url}", source_id=source_id, url=url) from e
            except httpx.TooManyRedirects as e:
                raise FetchError(f"more than {self.settings.max_redirects} redirects: {url}",
                                 source_id=source_id, url=url) from e
            except httpx.ConnectError as e:
                raise FetchError(f"cannot connect: {url} ({e})", source_id=source_id, url=url) from e
            except (httpx.HTTPError, httpx.InvalidURL) as e:
                raise FetchError(f"{type(e).__name__}: {e} ({url})", source_id=source_id, url=url) from e

    async def _get(self, url, headers, params, source_id, *, method: str = "GET", content: bytes | None = None,
                   timeout: float | None = None) -> Response:
        limit = self.settings.max_body_bytes
        extra = {"timeout": httpx.Timeout(timeout, connect=self.settings.connect_timeout)} if timeout else {}
        async with self._client.stream(method, url, headers=headers, params=params, content=content,
                                       **extra) as response:
            final_url = str(response.url)
            if response.status_code in RETRY_STATUSES:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                wait = f", Retry-After {retry_after:g} s" if retry_after is not None else ""
                message = f"HTTP {response.status_code} {response.reason_phrase}{wait}: {final_url}"
                if retry_after is None:
                    raise FetchError(message, source_id=source_id, url=final_url,
                                     status=response.status_code)
                if retry_after > self.settings.retry_after_cap:
                    message += f" (longer than the {self.settings.retry_after_cap:g} s we wait)"
                raise RateLimited(message, retry_after=retry_after, source_id=source_id,
                                  url=final_url, status=response.status_code)
            if response.status_code != 304 and not 200 <= response.status_code < 300:
                detail = await _error_detail(response)
                reason = f" ({detail})" if detail else ""
                raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}: {final_url}{reason}",
                                 source_id=source_id, url=final_url, status=response.status_code, detail=detail)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(f"body of {int(declared):,} bytes exceeds the {limit:,}-byte limit: {final_url}",
                                 source_id=source_id, url=final_url, status=response.status_code)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"body exceeds the {limit:,}-byte limit: {final_url}",
                                     source_id=source_id, url=final_url, status=response.status_code)
                chunks.append(chunk)
            wire_bytes = response.num_bytes_downloaded
            self.bytes_received += wire_bytes
            return Response(url=final_url, status=response.status_code, content=b"".join(chunks),
                            headers=response.headers, bytes_received=wire_bytes)


async def _error_detail(response: httpx.Response) -> str:
    """The reason an API put in an error body (X's 401/403 say which access level is
    missing, Bluesky's 400 that a profile is not found); "" for bodies that are not a short JSON explanation."""
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > 4096:
            return ""
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(document, dict):
        return ""
    # XRPC (Bluesky) puts the words in "message" beside an "error" code such as InvalidRequest.
    reason = document.get("detail") or document.get("title") or document.get("message") or document.get("error") or ""
    return clean_text(str(reason))[:200] if reason else ""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())
