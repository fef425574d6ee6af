"""Servers on loopback in a background thread: the real app under uvicorn (one runner, in the
editor tests' configuration or exactly `newsletter serve`'s), and a static server for a built
archive. The loopback server of real payloads is newsletter.demo.server.SnapshotServer (the
conftest `server` fixture)."""

from __future__ import annotations

import socket
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import uvicorn

from newsletter.app import App
from newsletter.web import create_web_app, server_config
from newsletter.web.core import CONTENT_SECURITY_POLICY

from support.net import loopback_socket


class AppServer:
    """The real app under uvicorn on 127.0.0.1 in a background thread.

    like_serve=False: create_web_app(app) with warning logs, believing forwarded headers from
    127.0.0.1 (the editor tests). like_serve=True: exactly `newsletter serve`'s server_config,
    `serve_options` passed on (e.g. forwarded_allow_ips). `bound`: a socket bound beforehand,
    so a config written earlier can name its port; otherwise a fresh port."""

    def __init__(self, app: App, *, bound: socket.socket | None = None, like_serve: bool = False,
                 **serve_options) -> None:
        self.app = app
        self._socket = bound if bound is not None else loopback_socket()
        if like_serve:
            config = server_config(app, "127.0.0.1", self.port, **serve_options)
        else:
            config = uvicorn.Config(create_web_app(app), log_level="warning", lifespan="on", proxy_headers=True,
                                    forwarded_allow_ips="127.0.0.1", **serve_options)
        self.asgi = config.app
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    @property
    def port(self) -> int:
        return self._socket.getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AppServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(15)
        self._socket.close()

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client(self, *, from_address: str | None = None, timeout: float = 10, **kwargs) -> httpx.Client:
        """An httpx client for this server; `from_address` picks the loopback address it comes from."""
        if from_address is not None:
            kwargs["transport"] = httpx.HTTPTransport(local_address=from_address)
        return httpx.Client(base_url=self.base_url, timeout=timeout, **kwargs)


class ArchiveServer(ThreadingHTTPServer):
    """Serves a directory under `prefix`/ with the app's CSP, as the app mounts the archive, and
    records the subscribe form's POSTs. Start it with start(), end it with stop()."""

    def __init__(self, directory: Path, prefix: str = "/archive"):
        self.directory = directory
        self.prefix = prefix
        self.posts: list[tuple[str, bytes]] = []
        super().__init__(("127.0.0.1", 0), partial(_ArchiveHandler, directory=str(directory)))
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> ArchiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _ArchiveHandler(SimpleHTTPRequestHandler):
    def do_GET(self):
        if not self.path.startswith(self.server.prefix + "/"):
            self.send_error(404, "outside the archive")
            return
        self.path = self.path[len(self.server.prefix):]
        super().do_GET()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write("<!doctype html><p>확인 메일을 보냈습니다.</p>".encode())

    def end_headers(self):
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        super().end_headers()

    def log_message(self, *args):
        pass
