"""`newsletter history import`: the curator's past picks from a file, with metadata from a
loopback arXiv API serving a real recorded answer; batched, bad lines reported, idempotent."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from support.cli import newsletter
from support.config import write_config
from support.fixtures import fixture_bytes

from newsletter.demo.server import Route
from newsletter.flows.history import parse_history
from newsletter.store import connect

# A real arXiv API answer for id_list=0808.05394,1707.08567 (lukasschwab/arxiv.py's cassette);
# it holds 1707.08567 only (the other id is not a paper arXiv has), whatever we ask.
API_ANSWER = json.loads(fixture_bytes("arxiv/arxiv-api-new-format-2026-id_list-two-ids.cassette.json"))["body"] \
    .encode("latin-1")


def _file(tmp_path, unknown: int) -> str:
    lines = ["# 지난 선택 (past picks)",
             "1707.08567v1 2024-07-19",
             "https://arxiv.org/pdf/0808.05394 2024-07-20",
             "not-an-id",
             "2407.13623 2024-13-40",
             "https://openai.com/index/gpt-4o-mini-advancing-cost-efficient-intelligence/?utm_source=rss 2024-07-18"]
    lines += [f"2501.{n:05d}" for n in range(unknown)]
    path = tmp_path / "기록.txt"  # a Hangul file name, as the curator would save it
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_history_import_batches_reports_bad_lines_and_is_idempotent(tmp_path, server):
    server.routes["/api/query"] = Route(API_ANSWER, "application/atom+xml")
    write_config(tmp_path / "sources.yaml", "collect", sources=[
        {"id": "arxiv-ai", "kind": "arxiv", "categories": ["cs.CL"], "url": server.url("/rss/"),
         "api_url": server.url("/api/query")}], collect={"arxiv_interval": 0.4})
    history = _file(tmp_path, unknown=100)

    run = newsletter(tmp_path, "history", "import", history, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["imported"] == 2 and report["known"] == 0
    bad = {line["line"]: line["error"] for line in report["bad"]}
    assert "not an arXiv id or an http(s) URL" in bad[4] and "not a date" in bad[5]
    assert "arXiv has no such paper" in bad[3]
    assert sum("arXiv has no such paper" in error for error in bad.values()) == 101
    assert [line["line"] for line in report["bad"]] == sorted(bad)

    # 102 ids: two requests of at most 100, spaced as arXiv asks (3 s; 0.4 s here)
    asked = [parse_qs(request.query) for request in server.hits("/api/query")]
    assert [len(q["id_list"][0].split(",")) for q in asked] == [100, 2]
    hits = server.hits("/api/query")
    assert hits[1].at - hits[0].at >= 0.3  # paced start to start in the client; arrival is a little later

    conn = connect(tmp_path / "cli.db")
    rows = {row["key"]: row for row in conn.execute("SELECT key, status, status_changed, source_id, url FROM items")}
    conn.close()
    assert set(rows) == {"arxiv:1707.08567", "https://openai.com/index/gpt-4o-mini-advancing-cost-efficient-intelligence/"}
    assert all(row["status"] == "published" and row["source_id"] == "history" for row in rows.values())
    assert rows["arxiv:1707.08567"]["status_changed"].startswith("2024-07-19")  # noon in Seoul, as given
    assert "utm_source" not in rows["https://openai.com/index/gpt-4o-mini-advancing-cost-efficient-intelligence/"]["url"]

    again = newsletter(tmp_path, "history", "import", history, "--json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["imported"] == 0 and second["known"] == 2
    # only the 101 ids not imported yet are asked for again (100 + 1): the imported one is not
    assert [len(parse_qs(r.query)["id_list"][0].split(",")) for r in server.hits("/api/query")[2:]] == [100, 1]

    # for people: the bad lines on stderr with their numbers, nothing on stdout
    plain = newsletter(tmp_path, "history", "import", history)
    assert plain.returncode == 0 and plain.stdout == ""
    assert "line 4:" in plain.stderr and "0 imported, 2 known already" in plain.stderr


def test_a_file_with_nothing_importable_exits_1(tmp_path, server):
    write_config(tmp_path / "sources.yaml", "collect", sources=[
        {"id": "arxiv-ai", "kind": "arxiv", "categories": ["cs.CL"], "url": server.url("/rss/"),
         "api_url": server.url("/api/query")}])
    path = tmp_path / "bad.csv"
    path.write_text("id,date\nnope,2024-01-01\n", encoding="utf-8")
    run = newsletter(tmp_path, "history", "import", str(path), "--json")
    assert run.returncode == 1 and json.loads(run.stdout)["bad"][0]["line"] == 2
    assert server.hits("/api/query") == []


def test_parse_history_reads_ids_urls_and_csv_rows():
    lines, bad = parse_history("id,date\n2407.13623v2,2024-07-19\nhttps://arxiv.org/abs/2407.13623\n"
                               "\n# 주석\nhttps://x.com/karpathy/status/1814339947722158085 2024-07-20\nftp://x\n")
    assert [(line.key, line.day and line.day.isoformat()) for line in lines] == [
        ("arxiv:2407.13623", "2024-07-19"), ("x:1814339947722158085", "2024-07-20")]  # the repeat is one
    assert [(b.number, b.text) for b in bad] == [(7, "ftp://x")]
