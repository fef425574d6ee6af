"""The CLI contract (DESIGN "CLI"), run as a user runs it: a subprocess, real files, loopback."""

from __future__ import annotations

import json
import re

from newsletter.demo.server import Route
from support.cli import newsletter
from support.config import write_config
from support.fixtures import RSS, fixture_bytes

EUC_KR_TITLE = "EUC-KR 에서 TypeKey 한글닉네임 표시하기"


def test_collect_json_is_clean_and_hangul_survives_to_items_json(server, tmp_path):
    # served with no charset anywhere, as the real Korean blog did
    server.routes["/korean.xml"] = Route(fixture_bytes("encoding/feedparser-euckr-korean-no-encoding-declared.rss.xml"),
                                         "application/xml")
    server.routes["/deepmind.xml"] = Route(fixture_bytes("feeds/google-deepmind-blog-rss-2025-07.xml"), RSS)
    server.routes["/broken.xml"] = Route(b"<html>maintenance</html>", "text/html")
    write_config(tmp_path / "sources.yaml", sources=[
        {"id": "korean-blog", "kind": "feed", "url": server.url("/korean.xml"), "section": "labs"},
        {"id": "deepmind", "kind": "feed", "url": server.url("/deepmind.xml"), "section": "labs"},
        {"id": "broken", "kind": "feed", "url": server.url("/broken.xml"), "section": "labs"},
    ])

    run = newsletter(tmp_path, "collect", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)  # stdout holds the JSON document and nothing else
    by_id = {s["id"]: s for s in report["sources"]}
    assert set(by_id["deepmind"]) >= {"id", "kind", "status", "fetched", "new", "error"}
    assert by_id["korean-blog"]["status"] == "ok" and by_id["korean-blog"]["new"] == 1
    assert by_id["broken"]["status"] == "error" and by_id["broken"]["error"].startswith("broken: ")
    assert report["new"] == by_id["korean-blog"]["new"] + by_id["deepmind"]["new"]

    run = newsletter(tmp_path, "items", "--source", "korean-blog", "--json")
    assert run.returncode == 0, run.stderr
    (item,) = json.loads(run.stdout)
    assert item["title"] == EUC_KR_TITLE
    assert item["summary"].startswith("TypeKey 시스템이 UTF-8로 돌아가는데")
    assert item["source"] == "korean-blog" and item["status"] == "new"
    assert [m["source"] for m in item["mentions"]] == ["korean-blog"]
    assert item["published"].endswith("Z")

    everything = json.loads(newsletter(tmp_path, "items", "--json").stdout)
    assert len(everything) == report["new"]
    assert set(everything[0]) == {"id", "key", "kind", "source", "title", "url", "authors", "summary",
                                  "published", "status", "commentary", "tags", "mentions"}

    run = newsletter(tmp_path, "sources", "--json")
    health = {s["id"]: s for s in json.loads(run.stdout)}
    assert health["broken"]["consecutive_failures"] == 1 and "HTML page" in health["broken"]["last_error"]
    assert health["deepmind"]["last_success"] and health["deepmind"]["items_last_run"] == by_id["deepmind"]["new"]

    run = newsletter(tmp_path, "items", "--source", "korean-blog")  # the table for people
    assert run.returncode == 0 and "한글닉네임" in run.stdout


def test_exit_codes_follow_the_contract(server, tmp_path):
    write_config(tmp_path / "sources.yaml", sources=[
        {"id": "down-a", "kind": "feed", "url": server.url("/missing-a.xml")},
        {"id": "down-b", "kind": "feed", "url": server.url("/missing-b.xml")},
    ])
    run = newsletter(tmp_path, "collect", "--json")
    assert run.returncode == 1  # every source failed
    assert {s["status"] for s in json.loads(run.stdout)["sources"]} == {"error"}

    (tmp_path / "sources.yaml").write_text("sources:\n  - id: a\n    kind: feed\n    url: https://a.test\n"
                                           "    colour: red\n", encoding="utf-8")
    run = newsletter(tmp_path, "collect", "--json")
    assert run.returncode == 2 and run.stdout == ""
    assert "sources.yaml:2" in run.stderr and "source 'a'" in run.stderr and "field 'colour'" in run.stderr

    write_config(tmp_path / "sources.yaml", sources=[{"id": "a", "kind": "feed", "url": server.url("/a.xml")}])
    run = newsletter(tmp_path, "collect", "--source", "nope")
    assert run.returncode == 2 and "no such source: nope" in run.stderr


def test_demo_collects_the_bundled_snapshots_offline(tmp_path):
    run = newsletter(tmp_path, "demo", "--no-serve", "--dir", str(tmp_path / "demo"), "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    statuses = {s["id"]: s["status"] for s in report["sources"]}
    assert set(statuses.values()) == {"ok"}, report
    assert {"openai", "arxiv-ai", "x-twitter", "hf-daily-papers", "bsky-chriskenny"} <= set(statuses)
    assert report["new"] > 1000
    items = json.loads(newsletter(tmp_path, "--db", str(tmp_path / "demo" / "newsletter.db"), "--config",
                                  str(tmp_path / "demo" / "sources.yaml"), "items", "--source", "arxiv-ai",
                                  "--json").stdout)
    titles = {item["title"] for item in items}
    assert "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies" in titles
    # render issue: a few items approved with Korean commentary, today's issue rendered to files
    html_file, text_file = tmp_path / "demo" / "issue.html", tmp_path / "demo" / "issue.txt"
    assert f"{html_file} (HTML)" in run.stderr.replace("\n", "") and str(text_file) in run.stderr.replace("\n", "")
    page, text = html_file.read_text(encoding="utf-8"), text_file.read_text(encoding="utf-8")
    for part in (page, text):
        assert "연산량에 따라 최적의 Vocabulary 수에 대한 Scaling Law" in part
        assert "Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies" in part
        assert "#토크나이저" in part
    assert '<html lang="ko"' in page and "<strong>어휘 크기</strong>" in page
    assert "Bluesky에서 보기" in page and "@chriskenny.bsky.social" in text  # a Bluesky post as a static quote
    # the archive is built with the (unsent) demo issue as a preview, linked from its index
    archive = tmp_path / "demo" / "archive"
    assert [link for link in re.findall(r'href="(issues/[\d-]+/index\.html)"', (archive / "index.html").read_text(
        encoding="utf-8")) if "연산량에 따라 최적의 Vocabulary" in (archive / link).read_text(encoding="utf-8")]
