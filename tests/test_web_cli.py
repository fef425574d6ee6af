"""`newsletter user add|token`, `serve` and the demo's editor, run as a user runs them."""

from __future__ import annotations

import time

import httpx

from newsletter.app import build_app
from support.cli import Running, cli_runner
from support.config import write_config
from support.net import free_port
from support.server import AppServer
from support.web import login

newsletter = cli_runner("editor")


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
    write_config(tmp_path / "sources.yaml", "editor")
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
    server = AppServer(app).start()
    try:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get("/api/items").json()["total"] == 0
        with httpx.Client(base_url=server.base_url) as client:
            login(client, "지수", "새 비밀번호 5678")
    finally:
        server.stop()
        app.close()


def test_serve_runs_the_editor_until_interrupted(tmp_path):
    write_config(tmp_path / "sources.yaml", "editor")
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
