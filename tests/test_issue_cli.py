"""The issue commands as a user runs them: a subprocess, a real database, loopback sources."""

from __future__ import annotations

import json
import subprocess


from support.cli import cli_runner
from support.config import PUBLISHER, SITE, write_config
from support.fixtures import serve_fixtures

newsletter = cli_runner("x")
PAPER = "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies"


def ok(run) -> subprocess.CompletedProcess:
    assert run.returncode == 0, run.stderr
    return run


def test_approve_build_show_render_ready_and_draft_from_the_command_line(server, tmp_path):
    write_config(tmp_path / "sources.yaml", None, sources=serve_fixtures(server),
                 newsletter={"contact": "test@example.com", **PUBLISHER},
                 collect={"arxiv_interval": 0.05})
    ok(newsletter(tmp_path, "collect", "--json"))
    papers = json.loads(ok(newsletter(tmp_path, "items", "--source", "arxiv-cl", "--json")).stdout)
    posts = json.loads(ok(newsletter(tmp_path, "items", "--source", "openai", "--json")).stdout)
    paper = next(p["id"] for p in papers if p["title"] == PAPER)
    post, unwanted = posts[0]["id"], posts[1]["id"]

    run = ok(newsletter(tmp_path, "approve", str(paper), "--comment", "연산량에 따른 최적의 **어휘 크기**.",
                        "--tags", "scaling-law,토크나이저"))
    assert run.stdout == "" and "#scaling-law #토크나이저" in run.stderr
    ok(newsletter(tmp_path, "approve", str(post), "--comment", "보안 대응 에이전트 사례.", "--tags", "#openai"))
    ok(newsletter(tmp_path, "approve", str(unwanted)))
    ok(newsletter(tmp_path, "reject", str(unwanted)))

    built = json.loads(ok(newsletter(tmp_path, "issue", "build", "--date", "2024-07-19", "--json")).stdout)
    assert (built["date"], built["number"], built["status"]) == ("2024-07-19", 1, "draft")
    assert [item["id"] for item in built["items"]] == [post, paper]  # labs before papers
    assert built["subject"] == "AI 뉴스 #1 — 2024년 7월 19일 (금)"
    assert built["web_url"] == f"{SITE}/issues/2024-07-19/"
    assert built["size"]["status"] == "ok" and built["problems"] == []
    assert built["items"][1]["tags"] == ["scaling-law", "토크나이저"]

    ok(newsletter(tmp_path, "issue", "edit", "--preheader", "어휘 크기와 보안 에이전트 이야기"))
    html_file, text_file = tmp_path / "out" / "issue.html", tmp_path / "out" / "issue.txt"
    run = ok(newsletter(tmp_path, "issue", "render", "--html", str(html_file), "--text", str(text_file)))
    assert run.stdout == "" and "KB" in run.stderr
    page, text = html_file.read_text(encoding="utf-8"), text_file.read_text(encoding="utf-8")
    assert "<strong>어휘 크기</strong>" in page and "연산량에 따른 최적의 어휘 크기." in text
    assert "어휘 크기와 보안 에이전트 이야기" in page and PAPER in text

    ok(newsletter(tmp_path, "issue", "ready"))
    shown = json.loads(ok(newsletter(tmp_path, "issue", "show", "--json")).stdout)
    assert shown["status"] == "ready" and shown["preheader"] == "어휘 크기와 보안 에이전트 이야기"
    run = newsletter(tmp_path, "reject", str(paper))
    assert run.returncode == 1 and "back to draft" in run.stderr and run.stdout == ""
    ok(newsletter(tmp_path, "issue", "draft", "--date", "2024-07-19"))
    table = ok(newsletter(tmp_path, "issue", "show")).stdout
    assert "(draft)" in table and "#토크나이저" in table


def test_issue_commands_fail_with_a_clear_message(server, tmp_path):
    write_config(tmp_path / "sources.yaml", None, sources=serve_fixtures(server), newsletter=PUBLISHER)
    run = newsletter(tmp_path, "issue", "show", "--json")
    assert run.returncode == 1 and run.stdout == "" and "there is no issue yet" in run.stderr
    run = newsletter(tmp_path, "approve", "424242", "--comment", "없는 항목")
    assert run.returncode == 1 and "item 424242: no such item" in run.stderr
    run = newsletter(tmp_path, "issue", "render", "--date", "2024-07-19")
    assert run.returncode == 2 and "--html FILE, --text FILE or both" in run.stderr
    ok(newsletter(tmp_path, "issue", "build", "--date", "2024-07-19"))
    run = newsletter(tmp_path, "issue", "ready")
    assert run.returncode == 1 and "issue 2024-07-19: has no items" in run.stderr
    run = newsletter(tmp_path, "issue", "build", "--date", "2024-07-01")
    assert run.returncode == 1 and "must be dated after" in run.stderr
    run = newsletter(tmp_path, "issue", "show", "--date", "2024-13-01")
    assert run.returncode == 2 and "2024-13-01" in run.stderr
