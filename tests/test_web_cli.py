"""`newsletter user add|token`, `serve` and the demo's editor, run as a user runs them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx

from newsletter.app import build_app
from test_web_support import EditorServer, login, write_editor_config


def environment(tmp_path) -> dict:
    env = {**os.environ, "NEWSLETTER_DB": str(tmp_path / "cli.db"), "NEWSLETTER_CONFIG": str(tmp_path / "sources.yaml")}
    for name in ("X_BEARER_TOKEN", "NEWSLETTER_SECRET"):
        env.pop(name, None)
    return env


def newsletter(tmp_path, *args, stdin: str = ""):
    return subprocess.run([sys.executable, "-m", "newsletter", *args], input=stdin, capture_output=True, text=True,
                          env=environment(tmp_path), cwd=tmp_path, timeout=120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Running:
    """A long-running command whose stderr is read as it comes."""

    def __init__(self, tmp_path, *args):
        self.process = subprocess.Popen([sys.executable, "-m", "newsletter", *args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=environment(tmp_path), cwd=tmp_path)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float = 90) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            assert self.process.poll() is None, "".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in:\n" + "".join(self.lines))

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(30)
        finally:
            if self.process.poll() is None:
                self.process.kill()


def wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_user_add_and_token(tmp_path):
    write_editor_config(tmp_path / "sources.yaml")
    run = newsletter(tmp_path, "user", "add", "지수", "--password-stdin", stdin="한글 비밀번호 1234\n")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and "created curator 지수" in run.stderr

    again = newsletter(tmp_path, "user", "add", "지수", "--password-stdin", stdin="another password\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    short = newsletter(tmp_path, "user", "add", "minho", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    reset = newsletter(tmp_path, "user", "add", "지수", "--password-stdin", "--reset", stdin="새 비밀번호 5678\n")
    assert reset.returncode == 0 and "password changed" in reset.stderr

    token_run = newsletter(tmp_path, "user", "token", "지수")
    assert token_run.returncode == 0, token_run.stderr
    token = token_run.stdout.strip()
    assert token.startswith("nlt_") and token_run.stdout.count("\n") == 1  # the token and nothing else
    assert newsletter(tmp_path, "user", "token", "nobody").returncode == 1
    as_json = newsletter(tmp_path, "user", "token", "지수", "--json")
    assert as_json.stdout.startswith('{"user": "지수", "token": "nlt_')

    # the token opens the API of an editor on that database; the new password opens the pages
    app = build_app(tmp_path / "cli.db", tmp_path / "sources.yaml", environ={})
    server = EditorServer(app).start()
    try:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get("/api/items").json()["total"] == 0
        with httpx.Client(base_url=server.base_url) as client:
            login(client, "지수", "새 비밀번호 5678")
    finally:
        server.stop()
        app.close()


def test_serve_runs_the_editor_until_interrupted(tmp_path):
    write_editor_config(tmp_path / "sources.yaml")
    port = free_port()
    running = Running(tmp_path, "serve", "--port", str(port))
    try:
        running.wait_for(r"editor on http://127\.0\.0\.1:\d+/")
        wait_until_up(f"http://127.0.0.1:{port}/login")
        assert httpx.get(f"http://127.0.0.1:{port}/queue").status_code == 303
        assert httpx.get(f"http://127.0.0.1:{port}/api/items").status_code == 401
        running.wait_for("no curator account yet")
        running.wait_for("generated a session secret")
    finally:
        code = running.stop()
    assert code == 0, "".join(running.lines)


def test_demo_starts_the_editor_with_a_demo_curator(tmp_path):
    port = free_port()
    running = Running(tmp_path, "demo", "--dir", str(tmp_path / "demo"), "--port", str(port))
    try:
        found = running.wait_for(r"editor\S*: http://127\.0\.0\.1:(\d+)/\s+user: (\S+)\s+password: (\S+)")
        assert int(found[1]) == port
        wait_until_up(f"http://127.0.0.1:{port}/login")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            login(client, found[2], found[3])
            queue = client.get("/api/items", params={"status": "all"}).json()
            assert queue["total"] > 100
            assert {s["section"] for s in queue["sections"]} >= {"labs", "papers", "x"}
            assert client.get("/queue").status_code == 200
    finally:
        code = running.stop()
    assert code == 0, "".join(running.lines)
