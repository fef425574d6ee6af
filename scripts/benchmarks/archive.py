"""archive: a full build of 500 issues of 20 items, then an incremental one; then the archive
grown to 1,000 issues and what one search query downloads there, against the old design."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from .common import FIXTURES, LISTING, korean_commentary, log, make_app

ARCHIVE_TAGS = ("언어모델", "scaling-law", "평가", "에이전트", "토크나이저", "추론", "멀티모달", "rlhf", "오픈소스", "안전성")


def archive_bench_items(count: int, offset: int, now: datetime):
    """`count` real fixture entries (papers, lab posts, X posts) under fresh keys."""
    from dataclasses import replace
    from datetime import timedelta

    from newsletter.collect import arxiv, feeds, x

    papers = arxiv.parse_listing(LISTING.read_bytes(), source_id="arxiv-ai", now=now).entries
    posts = feeds.parse_feed((FIXTURES / "feeds" / "openai-news-rss-2025-07-28.xml").read_bytes(), source_id="openai",
                             base_url="https://openai.com/news/rss.xml", now=now).entries
    tweets = x.parse_posts((FIXTURES / "x" / "x-api-v2-home-timeline-reverse-chronological.json").read_bytes(),
                           source_id="x-home", handle="TwitterDev").entries
    chosen = []
    for n in range(offset, offset + count):
        stamp = now - timedelta(minutes=n)
        if n % 10 < 6:
            chosen.append(("arxiv-ai", replace(papers[n % len(papers)], key=f"arxiv:2407.{40000 + n}", published=stamp)))
        elif n % 10 < 9:
            url = f"https://openai.com/archive-bench/{n}"
            chosen.append(("openai", replace(posts[n % len(posts)], key=url, url=url, published=stamp)))
        else:
            chosen.append(("x-home", replace(tweets[n % len(tweets)], key=f"x:{9_000_000 + n}", published=stamp)))
    return chosen


def add_sent_issues(app, first_day, issues: int, per_issue: int, offset: int, now: datetime) -> None:
    """Store `issues` sent issues of `per_issue` approved items each, from `first_day` on,
    through the store as the pipeline leaves them."""
    from datetime import timedelta

    from newsletter.model import IssueStatus, ItemStatus
    from newsletter.store import issues as issue_store
    from newsletter.store import items as item_store
    from newsletter.store import transaction

    chosen = archive_bench_items(issues * per_issue, offset, now)
    with transaction(app.conn):
        for source_id, entry in chosen:
            item_store.upsert_entries(app.conn, source_id, [entry], now)
        ids = [item_store.get_item_by_key(app.conn, entry.key).id for _, entry in chosen]
        for n, item_id in enumerate(ids, start=offset):
            item_store.set_status(app.conn, item_id, ItemStatus.APPROVED, now)
            tags = [ARCHIVE_TAGS[n % len(ARCHIVE_TAGS)], f"주제-{n % 97}", f"topic-{n % 101}"][: 1 + n % 3]
            item_store.annotate(app.conn, item_id, now, commentary=korean_commentary(n), tags=tags)
        for day in range(issues):
            issue = issue_store.create_issue(app.conn, first_day + timedelta(days=day), now)
            issue_store.set_items(app.conn, issue.id, ids[day * per_issue:(day + 1) * per_issue], now)
            for status in (IssueStatus.READY, IssueStatus.SENDING, IssueStatus.SENT):
                issue_store.set_status(app.conn, issue.id, status, now)
            for item_id in ids[day * per_issue:(day + 1) * per_issue]:
                item_store.set_status(app.conn, item_id, ItemStatus.PUBLISHED, now)


# Queries a reader types: Korean words (particles and compounds around them in the text),
# English words, two-word searches, a tag.
QUERIES = ("모델", "스케일링 법칙", "재현성", "토크나이저", "#언어모델", "에이전트 평가", "tokenizer", "Scaling",
           "language models", "reasoning")


PAGE = 20  # results shown at first (static/search.js)


def _loaded(path: Path):
    """The data of an index file (a script calling window.ARCHIVE_SEARCH_LOADED(name, data))."""
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index(",") + 1:text.rindex(")")])


def query_bytes(out: Path, query: str) -> tuple[int, int]:
    """(bytes, results) of what the search page downloads for `query` with an empty cache: the
    page, its stylesheet, script and icon, data.js, one bucket per block and word, and the
    files of the issues of the first page of results (what static/search.js loads)."""
    from newsletter.archive import paths, search

    files = [out / "search" / "index.html", out / "search" / "data.js", *(out / "static").iterdir()]
    data = out / "search" / "data.js"
    blocks = json.loads(data.read_text(encoding="utf-8").removeprefix("window.ARCHIVE_SEARCH=").removesuffix(";\n"))
    words = list(dict.fromkeys(w.lstrip("#") for w in search.normalised(query).split() if w.lstrip("#")))
    hits = []
    for block in blocks["blocks"]:
        places = [(issue, position) for issue in block["issues"] for position in range(issue[2])]
        per_word = []
        for word in words:
            bucket = out / "search" / block["dir"] / f"{search.bucket_of(search.key_of(word), block['buckets']):03x}.js"
            files.append(bucket)
            per_word.append(search.lookup(_loaded(bucket), word))
        for number in set.intersection(*(set(found) for found in per_word)) if per_word else ():
            title_words = sum(1 for found in per_word if found[number] & search.TITLE)
            issue, position = places[number]
            hits.append((-title_words, -issue[1], position, issue[0]))
    shown = {paths.search_doc_path(day, position // search.DOC_ITEMS) for _, _, position, day in sorted(hits)[:PAGE]}
    files += [out / path for path in shown]
    return sum(path.stat().st_size for path in set(files)), len(hits)


def old_design_bytes(app, now: datetime) -> int:
    """What every query downloaded before the index was sharded: data.js and every part of
    50 issues ([link, number, date, subject, preview] per issue, [issue, id, title,
    commentary, tags] per item), made again in that format from the same issues."""
    from newsletter.archive.pages import Site, gather
    from newsletter.render import subject_line

    archived = gather(app.conn, app.settings)
    subjects = {a.issue.issue_date.isoformat(): subject_line(a.issue, app.settings) for a in archived}
    index = Site(app.settings, archived, app.archive_templates, now).search_index
    total = 0
    for number, block in index.blocks.items():
        issues, items = [], []
        for position, issue in enumerate(block):
            issues.append([issue.link, issue.number, issue.date_label, subjects[issue.date], int(issue.preview)])
            items += [[position, i.id, i.title, i.text, i.tags] for i in issue.items]
        part = json.dumps({"issues": issues, "items": items}, ensure_ascii=False, separators=(",", ":"))
        total += len(f"window.ARCHIVE_SEARCH_PARTS.push({part});\n".encode("utf-8")) + 60  # + its line in data.js
    return total


def bench_archive() -> dict:
    from datetime import date

    from newsletter.archive import build_archive

    now = datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), [
            {"id": "arxiv-ai", "kind": "arxiv", "name": "arXiv", "categories": ["cs.CL"], "url": "https://rss.arxiv.org/rss/",
             "section": "papers"},
            {"id": "openai", "kind": "feed", "name": "OpenAI News", "url": "https://openai.com/news/rss.xml",
             "section": "labs"},
            {"id": "x-home", "kind": "x", "name": "X", "handle": "TwitterDev", "api_url": "https://api.x.com/2",
             "section": "x"}])
        try:
            first_day = date(2024, 8, 1)
            add_sent_issues(app, first_day, 500, 20, 0, now)
            out = Path(tmp) / "site"
            started, cpu = time.perf_counter(), time.process_time()
            full = build_archive(app.conn, app.settings, out, now, templates=app.archive_templates)
            full_s, full_cpu = time.perf_counter() - started, time.process_time() - cpu
            add_sent_issues(app, date.fromordinal(first_day.toordinal() + 500), 1, 20, 500 * 20, now)
            started, cpu = time.perf_counter(), time.process_time()
            incremental = build_archive(app.conn, app.settings, out, now, templates=app.archive_templates)
            incremental_s, incremental_cpu = time.perf_counter() - started, time.process_time() - cpu
            search_written = [path for path in incremental.written if path.startswith("search/")]
            add_sent_issues(app, date.fromordinal(first_day.toordinal() + 501), 499, 20, 501 * 20, now)
            grown = build_archive(app.conn, app.settings, out, now, templates=app.archive_templates)
            search_kb = sum(p.stat().st_size for p in (out / "search").rglob("*.js")) / 1024
            measured = {query: query_bytes(out, query) for query in QUERIES}
            old_kb = old_design_bytes(app, now) / 1024
        finally:
            app.close()
    assert len(full.issues) == 500 and len(incremental.issues) == 501 and len(grown.issues) == 1000
    per_query = sorted(size / 1024 for size, _ in measured.values())
    log(f"archive of 500 issues x 20 items: full build {full_s:.2f} s ({full_cpu:.2f} s CPU; {full.files} files, "
        f"{full.tags} tags); after one more issue {incremental_s:.2f} s ({incremental_cpu:.2f} s CPU; "
        f"{len(incremental.written)} files written, {len(search_written)} of the search index)")
    for query, (size, results) in measured.items():
        log(f"  search at 1,000 issues: {query!r}: {size / 1024:.0f} KB downloaded, {results} results")
    log(f"search at 1,000 issues: {max(per_query):.0f} KB per query at most (median {statistics.median(per_query):.0f}) "
        f"of an index of {search_kb:.0f} KB on disk; the old design downloaded all of its {old_kb:.0f} KB")
    # the CPU figures tell a slow machine from a busy one
    return {"full_build_s": round(full_s, 3), "incremental_s": round(incremental_s, 3),
            "full_build_cpu_s": round(full_cpu, 3), "incremental_cpu_s": round(incremental_cpu, 3),
            "files": full.files, "incremental_written": len(incremental.written),
            "incremental_search_written": len(search_written),
            # the largest of QUERIES; the old design downloaded its whole index for any query
            "search_kb_per_query_1000": round(max(per_query)), "search_kb_per_query_1000_median": round(
                statistics.median(per_query)), "search_kb_per_query_1000_old_design": round(old_kb),
            "search_index_kb_1000": round(search_kb)}
