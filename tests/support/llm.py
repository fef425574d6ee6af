"""A loopback stand-in for an OpenAI-compatible chat-completions server: it answers with real
recorded bodies (tests/fixtures/openai_compatible), scripted per request, and keeps every
request it got (headers and JSON body) for the test to look at."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from support.fixtures import FIXTURES

RECORDED = FIXTURES / "openai_compatible"


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


COMPLETION = json.loads(recorded("openai-chat-completions-gpt-3.5-turbo-2025-08-20.body-derived.json"))
RATE_LIMITED = recorded("openrouter-chat-completions-429-rate-limit-2025-08-08.body-derived.json")
NOT_FOUND = recorded("openai-error-404-model_not_found-2025-03-14.body-derived.json")
BAD_KEY = json.dumps(json.loads(recorded("openai-error-401-invalid_api_key-2026.allm-recorded-envelope.json"))["body"]
                     ).encode()


def completion_saying(text: str) -> bytes:
    """The real gpt-3.5-turbo answer's shape, its content replaced."""
    body = json.loads(json.dumps(COMPLETION))
    body["choices"][0]["message"]["content"] = text
    return json.dumps(body, ensure_ascii=False).encode()


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


class ChatStandIn:
    """`replies` are used in order (the last one repeats); `requests` holds what came."""

    def __init__(self, *replies: Reply):
        self.replies = list(replies)
        self.requests: list[dict] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stand_in.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                reply = stand_in.replies[min(len(stand_in.requests), len(stand_in.replies)) - 1]
                time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> ChatStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
