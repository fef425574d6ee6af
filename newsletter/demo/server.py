"""A loopback HTTP server that serves recorded payloads, for the demo, tests and benchmarks.

It speaks enough real HTTP to exercise the collectors: ETag / Last-Modified with 304s,
and knobs for latency, error statuses, Retry-After, redirects, hangs and oversized bodies.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "application/xml; charset=utf-8"
    status: int = 200
    delay: float = 0.0  # seconds before answering
    headers: dict[str, str] = field(default_factory=dict)
    redirect_to: str = ""  # answer 302 to this path
    hang: float = 0.0  # send headers, then stall this long before the body
    conditional: bool = True  # honour If-None-Match / If-Modified-Since
    stream_bytes: int = 0  # send this many filler bytes, chunked, with no Content-Length
    # APIs that answer by query (oEmbed's url=, the arXiv API's id_list=): the query's
    # parameters -> the Route to answer with
    by_query: Callable[[dict[str, str]], Route] | None = None


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # arrival, to check request spacing


class SnapshotServer:
    """`with SnapshotServer({"/feed.xml": Route(body)}) as server: server.url("/feed.xml")`.

    Routes can be added or changed while it runs; every request is logged in `requests`.
    """

    LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)

    def __init__(self, routes: dict[str, Route] | None = None, host: str = "127.0.0.1"):
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Request] = []
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> SnapshotServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SnapshotServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _record(self, request: Request | None, sent: int = 0) -> None:
        with self._lock:
            if request:
                self.requests.append(request)
            self.bytes_sent += sent

    def _handler_class(self):
        # The handler class closes over this server (its routes and counters); its methods are
        # the length, not the factory.
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def log_message(self, *args):  # quiet: tests and the demo read their own output
                pass

            def flush_headers(self):  # count the status line and headers as sent on the wire
                server._record(None, sent=sum(map(len, getattr(self, "_headers_buffer", []))))
                super().flush_headers()

            def do_GET(self):
                parts = urlsplit(self.path)
                server._record(Request("GET", parts.path, parts.query, dict(self.headers)))
                route = server.routes.get(parts.path)
                if route is None:
                    return self._send(404, b"not found", "text/plain", {})
                if route.by_query:
                    route = route.by_query(dict(parse_qsl(parts.query)))
                if route.delay:
                    time.sleep(route.delay)
                if route.redirect_to:
                    return self._send(302, b"", "text/plain", {"Location": route.redirect_to})
                if route.stream_bytes:
                    return self._stream(route)
                etag = '"%s"' % hashlib.sha1(route.body).hexdigest()[:16]
                headers = dict(route.headers)
                if route.status == 200 and route.conditional:
                    headers.update({"ETag": etag, "Last-Modified": server.LAST_MODIFIED})
                    if self.headers.get("If-None-Match") == etag or (
                            "If-None-Match" not in self.headers
                            and self.headers.get("If-Modified-Since") == server.LAST_MODIFIED):
                        return self._send(304, b"", route.content_type, headers)
                if route.hang:
                    return self._hang(route)
                return self._send(route.status, route.body, route.content_type, headers)

            def _send(self, status, body, content_type, headers):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)) if status != 304 else "0")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)
                server._record(None, sent=len(body) if status != 304 else 0)

            def _stream(self, route):
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(route.stream_bytes // len(chunk)):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading at its size cap, as it should

            def _hang(self, route):
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.flush()
                time.sleep(route.hang)
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
