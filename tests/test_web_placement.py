"""Items added by hand sit in the same section and carry the same source name everywhere: the
queue, the composer and its preview, and the rendered email (one rule, newsletter/sections.py).
The editor under uvicorn on loopback, a real SQLite file, sections named in Korean so that no
hard-coded "labs"/"papers" can agree by accident."""

from __future__ import annotations

import html
import re

import httpx

from newsletter.flows import compose
from newsletter.render import issue_view, render_issue
from newsletter.store import issues as issue_store
from newsletter.store import transaction
from newsletter.store.items import get_items, list_items, upsert_entries
from support.apps import add_curator, app_for, seed
from support.clock import MORNING, Clock
from support.config import editor_sources
from support.fixtures import feed_entries, paper_entries
from support.server import AppServer
from support.web import login

LAB_SECTION, PAPER_SECTION = "연구소 소식", "논문 읽기"


def korean_sections(base_url: str) -> dict:
    """The editor preset's sections and sources, the sections named in Korean."""
    sources = [{**source, "section": {"feed": LAB_SECTION, "arxiv": PAPER_SECTION}.get(source["kind"], "x")}
               for source in editor_sources(base_url)]
    return {"newsletter": {"sections": [LAB_SECTION, PAPER_SECTION, "x"]}, "sources": sources}


def test_a_manual_paper_and_post_sit_in_one_section_with_one_source_name_everywhere(tmp_path, server):
    app = app_for(tmp_path, "editor", clock=Clock(MORNING), base_url=server.base_url,
                  **korean_sections(server.base_url))
    running = None
    try:
        seed(app)
        with transaction(app.conn):  # pasted by the curator: a paper and a lab post nobody's feed brought
            upsert_entries(app.conn, "manual", paper_entries()[6:7], MORNING)
            upsert_entries(app.conn, "manual", feed_entries("openai-news-rss-2025-07-28.xml", "openai")[6:7],
                           MORNING)
        manual = {item.kind.value: item for item in list_items(app.conn, source_id="manual")}
        assert set(manual) == {"paper", "post"}
        add_curator(app)
        running = AppServer(app).start()
        with httpx_client(running) as client:
            login(client)
            queue = client.get("/queue").text
            for kind, section in (("paper", PAPER_SECTION), ("post", LAB_SECTION)):
                group = re.search(rf'<section class="section" data-section="{section}">.*?</section>', queue, re.S)[0]
                card = re.search(rf'<article[^>]*id="item-{manual[kind].id}".*?</article>', group, re.S)[0]
                assert "직접 추가" in card and "manual" not in card

            compose.approve_item(app.conn, manual["paper"].id, MORNING, commentary="직접 찾은 논문입니다.")
            compose.approve_item(app.conn, manual["post"].id, MORNING, commentary="직접 찾은 연구소 글입니다.")
            issue = compose.build_issue(app.settings, app.conn, MORNING).issue
            composer = client.get("/issue", params={"date": issue.issue_date.isoformat()}).text
            for kind, section in (("paper", PAPER_SECTION), ("post", LAB_SECTION)):
                group = re.search(rf'data-issue-section="{section}">.*?</section>', composer, re.S)[0]
                assert html.escape(manual[kind].display_title) in group
            preview = client.get("/issue/preview.html", params={"date": issue.issue_date.isoformat()}).text
            assert "직접 추가" in preview and ">manual<" not in preview

        items = get_items(app.conn, issue_store.get_issue(app.conn, issue.id).item_ids)
        view = issue_view(issue, items, app.settings)
        placed = {item.id: (section.id, item.source_name) for section in view.sections for item in section.items}
        assert placed[manual["paper"].id] == (PAPER_SECTION, "직접 추가")
        assert placed[manual["post"].id] == (LAB_SECTION, "직접 추가")
        text = render_issue(issue, items, app.settings, app.email).text
        lab_part = text.split(f"■ {LAB_SECTION}")[1].split("■ ")[0]
        paper_part = text.split(f"■ {PAPER_SECTION}")[1].split("■ ")[0]
        assert "직접 찾은 연구소 글입니다." in lab_part and "직접 추가" in lab_part
        assert "직접 찾은 논문입니다." in paper_part
        assert "manual" not in text
    finally:
        if running is not None:
            running.stop()
        app.close()


def httpx_client(running: AppServer) -> httpx.Client:
    return httpx.Client(base_url=running.base_url, timeout=10)
