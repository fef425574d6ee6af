"""The editor's store: snooze and waking, sections, search (Hangul and English), 5,000-item
pagination, picks order and undo, accounts, tokens, sessions; on a real SQLite file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from newsletter.errors import InputError
from newsletter.config import load_settings
from newsletter.model import ItemStatus
from newsletter.store import connect, transaction
from newsletter.store import curation
from newsletter.store import users as user_store
from newsletter.store.items import annotate, get_item_by_key, upsert_entries
from newsletter.store.queue import QueueFilter, queue_page, snooze_until, waiting_count
from newsletter.sections import sections_of
from support.apps import KARPATHY_POST, VOCABULARY_PAPER
from support.clock import MORNING
from support.config import write_config
from support.fixtures import feed_entries, paper_entries

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def conn(tmp_path):
    connection = connect(tmp_path / "store.db")
    yield connection
    connection.close()


@pytest.fixture
def sections(tmp_path):
    return sections_of(load_settings(write_config(tmp_path / "sources.yaml", "editor"), {}))


def seeded(conn) -> None:
    with transaction(conn):
        upsert_entries(conn, "openai", feed_entries("openai-news-rss-2025-07-28.xml", "openai")[:5], MORNING)
        upsert_entries(conn, "arxiv-ai", paper_entries()[:6], MORNING)
        upsert_entries(conn, "x-karpathy", [], MORNING, extra_mentions=[(VOCABULARY_PAPER, KARPATHY_POST)])


def page(conn, sections, now=MORNING, **filters):
    return queue_page(conn, sections, QueueFilter(**filters), now=now, zone=SEOUL, per_page=50)


def keys(result) -> list[str]:
    return [entry.item.key for entry in result.entries]


# --- snooze ----------------------------------------------------------------------------------


@pytest.mark.parametrize("now, wakes", [
    # 09:30 in Seoul -> 06:00 the next day (21:00 UTC the same day)
    (datetime(2024, 7, 19, 0, 30, tzinfo=timezone.utc), datetime(2024, 7, 19, 21, 0, tzinfo=timezone.utc)),
    # 23:50 in Seoul -> 06:00 the next day
    (datetime(2024, 7, 19, 14, 50, tzinfo=timezone.utc), datetime(2024, 7, 19, 21, 0, tzinfo=timezone.utc)),
    # 02:00 in Seoul, before dawn: this same morning
    (datetime(2024, 7, 18, 17, 0, tzinfo=timezone.utc), datetime(2024, 7, 18, 21, 0, tzinfo=timezone.utc)),
    # exactly 06:00: the next morning, not now
    (datetime(2024, 7, 18, 21, 0, tzinfo=timezone.utc), datetime(2024, 7, 19, 21, 0, tzinfo=timezone.utc)),
])
def test_snooze_lasts_until_the_next_morning_in_the_newsletters_zone(now, wakes):
    assert snooze_until(now, SEOUL) == wakes


def test_snooze_follows_daylight_saving_in_other_zones():
    berlin = ZoneInfo("Europe/Berlin")
    # the night clocks go forward (31 March 2024): 06:00 local is 04:00 UTC, not 05:00
    assert snooze_until(datetime(2024, 3, 30, 20, 0, tzinfo=timezone.utc), berlin) == \
        datetime(2024, 3, 31, 4, 0, tzinfo=timezone.utc)


def test_snoozed_items_leave_the_queue_and_come_back_new_the_next_morning(conn, sections):
    seeded(conn)
    paper = get_item_by_key(conn, VOCABULARY_PAPER)
    with transaction(conn):
        curation.triage(conn, paper.id, ItemStatus.SNOOZED, MORNING, user_id=None,
                        snoozed_until=snooze_until(MORNING, SEOUL))
    assert VOCABULARY_PAPER not in keys(page(conn, sections))
    assert keys(page(conn, sections, status="snoozed")) == [VOCABULARY_PAPER]
    before_dawn = datetime(2024, 7, 19, 20, 59, tzinfo=timezone.utc)
    assert VOCABULARY_PAPER not in keys(page(conn, sections, now=before_dawn))
    assert waiting_count(conn, before_dawn) == 10

    next_morning = datetime(2024, 7, 19, 21, 0, tzinfo=timezone.utc)
    woken = {e.item.key: e for e in page(conn, sections, now=next_morning).entries}
    assert woken[VOCABULARY_PAPER].status is ItemStatus.NEW
    assert waiting_count(conn, next_morning) == 11
    assert page(conn, sections, now=next_morning, status="snoozed").total == 0
    # a woken item can be decided like any new one
    with transaction(conn):
        curation.triage(conn, paper.id, ItemStatus.APPROVED, next_morning, user_id=None)
    assert [item.key for item in curation.picks(conn)] == [VOCABULARY_PAPER]


# --- sections, mentions ------------------------------------------------------------------------


def test_queue_groups_by_section_in_configured_order_newest_first(conn, sections):
    seeded(conn)
    result = page(conn, sections)
    assert dict(result.section_counts) == {"labs": 5, "papers": 6}
    assert [name for name, _ in result.section_counts] == ["labs", "papers"]
    found = [(e.section, e.item.published) for e in result.entries]
    assert [s for s, _ in found] == ["labs"] * 5 + ["papers"] * 6
    labs = [p for s, p in found if s == "labs"]
    assert labs == sorted(labs, reverse=True)

    # the curator moves a paper to labs: its section and the counts follow
    paper = get_item_by_key(conn, VOCABULARY_PAPER)
    with transaction(conn):
        annotate(conn, paper.id, MORNING, section_override="labs")
    moved = page(conn, sections, section="labs")
    assert VOCABULARY_PAPER in keys(moved) and moved.total == 6
    assert dict(moved.section_counts) == {"labs": 6, "papers": 5}


def test_manual_items_go_by_kind_and_sources_filter_by_mentions(conn, sections):
    seeded(conn)
    with transaction(conn):
        upsert_entries(conn, "manual", paper_entries()[6:7], MORNING)
    manual = page(conn, sections, source="manual")
    assert [(e.section, e.item.source_id) for e in manual.entries] == [("papers", "manual")]
    # the paper @karpathy pointed at belongs to x-karpathy's items too
    assert keys(page(conn, sections, source="x-karpathy")) == [VOCABULARY_PAPER]


def test_date_filter_uses_the_newsletters_local_date(conn, sections):
    seeded(conn)
    # the arXiv listing's items are dated 2024-07-19 04:00 UTC = 13:00 in Seoul
    assert page(conn, sections, day=date(2024, 7, 19)).total == 6
    assert page(conn, sections, day=date(2024, 7, 18)).total == 0


# --- search ----------------------------------------------------------------------------------


def test_search_finds_english_words_and_phrases_case_insensitively(conn, sections):
    seeded(conn)
    assert keys(page(conn, sections, query="VOCABULARY")) == [VOCABULARY_PAPER]
    assert keys(page(conn, sections, query='"weak-to-strong"')) == ["arxiv:2407.13647"]
    # every word must match
    assert page(conn, sections, query="scaling vocabulary").total == 1
    assert page(conn, sections, query="scaling nonexistentword").total == 0


def test_search_finds_korean_commentary_by_substring_and_two_syllable_words(conn, sections):
    seeded(conn)
    paper = get_item_by_key(conn, VOCABULARY_PAPER)
    with transaction(conn):
        annotate(conn, paper.id, MORNING, commentary="연산량에 따라 최적의 어휘 수가 달라지는 대규모언어모델 연구",
                 tags=("토크나이저",))
    # trigram: 3+ syllables inside a compound word
    assert keys(page(conn, sections, query="언어모델")) == [VOCABULARY_PAPER]
    # 2-syllable words (too short for trigrams) fall back to LIKE
    assert keys(page(conn, sections, query="연구")) == [VOCABULARY_PAPER]
    assert keys(page(conn, sections, query="어휘")) == [VOCABULARY_PAPER]
    # hashtags are searched too, with or without '#'
    assert keys(page(conn, sections, query="#토크나이저")) == [VOCABULARY_PAPER]
    assert page(conn, sections, query="모델 scaling").total == 1
    # the index follows edits: the old commentary is no longer found
    with transaction(conn):
        annotate(conn, paper.id, MORNING, commentary="바뀐 코멘트")
    assert page(conn, sections, query="언어모델").total == 0
    assert keys(page(conn, sections, query="바뀐")) == [VOCABULARY_PAPER]


def test_search_takes_sql_and_fts_syntax_as_plain_text(conn, sections):
    seeded(conn)
    for query in ['"', "AND", "title:scaling", "50%", "a_b", "NEAR(x y)", "*", "'; DROP TABLE items; --"]:
        page(conn, sections, query=query)  # must not raise
    # '%' is a literal percent sign, not "anything"
    percent = page(conn, sections, query="%")
    assert 0 < percent.total < 11
    assert all("%" in e.item.title + e.item.summary_text for e in percent.entries)


def test_search_finds_title_overrides(conn, sections):
    seeded(conn)
    paper = get_item_by_key(conn, "arxiv:2407.13647")
    with transaction(conn):
        annotate(conn, paper.id, MORNING, title_override="약한 모델이 강한 모델을 가르친다")
    assert keys(page(conn, sections, query="가르친다")) == ["arxiv:2407.13647"]


# --- 5,000 items ----------------------------------------------------------------------------


def test_five_thousand_waiting_items_page_and_count_correctly(conn, sections):
    """Real entries repeated under fresh keys: 4,000 lab posts and 1,000 papers."""
    posts = feed_entries("openai-news-rss-2025-07-28.xml", "openai")
    papers = paper_entries()
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    lab_rows = [replace(posts[n % len(posts)], key=f"https://openai.com/bulk/{n}", url=f"https://openai.com/bulk/{n}",
                        published=start + timedelta(minutes=n)) for n in range(4000)]
    paper_rows = [replace(papers[n % len(papers)], key=f"arxiv:2407.{30000 + n}",
                          published=start + timedelta(minutes=n)) for n in range(1000)]
    with transaction(conn):
        assert upsert_entries(conn, "openai", lab_rows, MORNING) == 4000
        assert upsert_entries(conn, "arxiv-ai", paper_rows, MORNING) == 1000

    first = queue_page(conn, sections, QueueFilter(), now=MORNING, zone=SEOUL, page=1, per_page=50)
    assert first.total == 5000 and first.pages == 100 and len(first.entries) == 50
    assert dict(first.section_counts) == {"labs": 4000, "papers": 1000}
    assert first.entries[0].item.key == "https://openai.com/bulk/3999"  # newest lab post first

    # page 80 is the first page of papers (4,000 labs / 50), newest paper first
    eightieth = queue_page(conn, sections, QueueFilter(), now=MORNING, zone=SEOUL, page=81, per_page=50)
    assert [e.section for e in eightieth.entries] == ["papers"] * 50
    assert eightieth.entries[0].item.key == "arxiv:2407.30999"

    last = queue_page(conn, sections, QueueFilter(), now=MORNING, zone=SEOUL, page=100, per_page=50)
    assert last.entries[-1].item.key == "arxiv:2407.30000"
    beyond = queue_page(conn, sections, QueueFilter(), now=MORNING, zone=SEOUL, page=999, per_page=50)
    assert beyond.page == 100 and keys(beyond) == keys(last)

    # every item appears exactly once across the pages
    seen = []
    for number in range(1, 101):
        seen += keys(queue_page(conn, sections, QueueFilter(), now=MORNING, zone=SEOUL, page=number, per_page=50))
    assert len(seen) == len(set(seen)) == 5000

    only_papers = queue_page(conn, sections, QueueFilter(section="papers"), now=MORNING, zone=SEOUL, per_page=50)
    assert only_papers.total == 1000 and only_papers.pages == 20
    assert dict(only_papers.section_counts) == {"labs": 4000, "papers": 1000}  # tabs keep all counts

    # deciding items takes them out of the waiting count
    with transaction(conn):
        for entry in first.entries[:10]:
            curation.triage(conn, entry.item.id, ItemStatus.APPROVED, MORNING, user_id=None)
    after = queue_page(conn, sections, QueueFilter(), now=MORNING, zone=SEOUL, per_page=50)
    assert after.total == 4990 and after.entries[0].item.key == "https://openai.com/bulk/3989"
    assert len(curation.picks(conn)) == 10


# --- triage, undo, picks ------------------------------------------------------------------


def test_undo_restores_the_previous_state_and_pick_position(conn, sections):
    seeded(conn)
    ids = [e.item.id for e in page(conn, sections).entries[:3]]
    with transaction(conn):
        for item_id in ids:
            curation.triage(conn, item_id, ItemStatus.APPROVED, MORNING, user_id=None)
        curation.set_pick_order(conn, [ids[2], ids[0], ids[1]])
        curation.triage(conn, ids[0], ItemStatus.REJECTED, MORNING, user_id=None)
    assert [i.id for i in curation.picks(conn)] == [ids[2], ids[1]]
    with transaction(conn):
        restored = curation.undo_last(conn, None, MORNING).item
    assert restored.id == ids[0] and restored.status is ItemStatus.APPROVED
    assert [i.id for i in curation.picks(conn)] == [ids[2], ids[0], ids[1]]  # back in its place
    with transaction(conn):
        curation.undo_last(conn, None, MORNING)  # the third approval
        curation.undo_last(conn, None, MORNING)
        curation.undo_last(conn, None, MORNING)
        assert curation.undo_last(conn, None, MORNING) is None
    assert curation.picks(conn) == []
    assert page(conn, sections).total == 11


def test_undo_refuses_when_the_item_moved_on_meanwhile(conn, sections):
    seeded(conn)
    item = page(conn, sections).entries[0].item
    with transaction(conn):
        other = user_store.create_user(conn, "minho", user_store.hash_password("password-2", n=2**10), MORNING)
        curation.triage(conn, item.id, ItemStatus.APPROVED, MORNING, user_id=None)
        # another curator rejects it afterwards
        curation.triage(conn, item.id, ItemStatus.REJECTED, MORNING, user_id=other.id)
    with transaction(conn):
        refused = curation.undo_last(conn, None, MORNING)
    assert "changed since" in refused.refused and refused.item.status is ItemStatus.REJECTED
    assert get_item_by_key(conn, item.key).status is ItemStatus.REJECTED
    with transaction(conn):
        assert curation.undo_last(conn, None, MORNING) is None  # that move is used up, not stuck
        # the other curator's own undo still works
        assert curation.undo_last(conn, other.id, MORNING).item.status is ItemStatus.APPROVED


def test_picks_reorder_and_move(conn, sections):
    seeded(conn)
    ids = [e.item.id for e in page(conn, sections).entries[:4]]
    with transaction(conn):
        for item_id in ids:
            curation.triage(conn, item_id, ItemStatus.APPROVED, MORNING, user_id=None)
        curation.move_pick(conn, ids[3], -2)
    assert [i.id for i in curation.picks(conn)] == [ids[0], ids[3], ids[1], ids[2]]
    with transaction(conn):
        curation.move_pick(conn, ids[0], -1)  # clamped at the top
        curation.set_pick_order(conn, [ids[2]])  # the rest keep their order after it
    assert [i.id for i in curation.picks(conn)] == [ids[2], ids[0], ids[3], ids[1]]
    other = page(conn, sections).entries[0].item.id
    with pytest.raises(InputError, match="not among today's picks"), transaction(conn):
        curation.set_pick_order(conn, [other])


def test_tag_suggestions_prefer_prefixes_then_use(conn, sections):
    seeded(conn)
    ids = [e.item.id for e in page(conn, sections).entries[:3]]
    with transaction(conn):
        annotate(conn, ids[0], MORNING, tags=("대규모언어모델", "언어모델"))
        annotate(conn, ids[1], MORNING, tags=("언어모델", "scaling-law"))
        annotate(conn, ids[2], MORNING, tags=("언어학",))
    assert curation.suggest_tags(conn, "언어") == ["언어모델", "언어학", "대규모언어모델"]
    assert curation.suggest_tags(conn, "모델") == ["언어모델", "대규모언어모델"]
    assert curation.suggest_tags(conn, "scal") == ["scaling-law"]
    assert curation.suggest_tags(conn, "%") == []


def test_drafts_are_kept_per_item_and_curator(conn, sections):
    seeded(conn)
    item_id = page(conn, sections).entries[0].item.id
    with transaction(conn):
        one = user_store.create_user(conn, "지수", user_store.hash_password("password-1", n=2**10), MORNING)
        two = user_store.create_user(conn, "minho", user_store.hash_password("password-2", n=2**10), MORNING)
        curation.save_draft(conn, item_id, one.id, MORNING, commentary="첫 번째 초안", tags="#언어모델")
        curation.save_draft(conn, item_id, one.id, MORNING, commentary="고친 초안", tags="#언어모델")
    assert curation.get_draft(conn, item_id, one.id).commentary == "고친 초안"
    assert curation.get_draft(conn, item_id, two.id) is None
    assert curation.drafted(conn, one.id, [item_id]) == {item_id}
    with pytest.raises(InputError, match="longer than"), transaction(conn):
        curation.save_draft(conn, item_id, one.id, MORNING, commentary="가" * 20_001)
    assert curation.get_draft(conn, item_id, one.id).commentary == "고친 초안"


# --- accounts -------------------------------------------------------------------------------


def test_passwords_are_scrypt_hashed_and_checked():
    stored = user_store.hash_password("한글 비밀번호", n=2**10)
    assert stored.startswith("scrypt$1024$8$1$") and "한글" not in stored
    assert user_store.verify_password("한글 비밀번호", stored)
    assert not user_store.verify_password("한글 비밀번호!", stored)
    assert not user_store.verify_password("x", "not-a-hash")
    assert user_store.hash_password("same", n=2**10) != user_store.hash_password("same", n=2**10)  # salted


def test_tokens_and_sessions_are_stored_hashed(conn):
    with transaction(conn):
        user = user_store.create_user(conn, "지수", user_store.hash_password("password-1", n=2**10), MORNING)
        token = user_store.create_token(conn, "지수", MORNING)
        session_id = user_store.create_session(conn, user.id, MORNING, timedelta(days=14))
    dump = "\n".join(conn.iterdump())
    assert token not in dump and session_id not in dump
    assert user_store.user_for_token(conn, token, MORNING).name == "지수"
    assert user_store.user_for_token(conn, token + "x", MORNING) is None
    assert user_store.get_session(conn, session_id, MORNING + timedelta(days=13)).user.id == user.id
    assert user_store.get_session(conn, session_id, MORNING + timedelta(days=15)) is None
    with transaction(conn):
        user_store.set_password(conn, "지수", user_store.hash_password("password-2", n=2**10), MORNING)
    assert user_store.get_session(conn, session_id, MORNING) is None  # a new password ends sessions


def test_user_names_are_checked(conn):
    with pytest.raises(InputError, match="already exists"), transaction(conn):
        user_store.create_user(conn, "jisu", "scrypt$x", MORNING)
        user_store.create_user(conn, "JISU", "scrypt$x", MORNING)
    with pytest.raises(InputError, match="user name"), transaction(conn):
        user_store.create_user(conn, "a b", "scrypt$x", MORNING)
    with pytest.raises(InputError, match="at least 8"):
        user_store.check_new_password("short")


def test_a_database_from_before_the_editor_is_migrated_and_searchable(tmp_path):
    """Items collected before migration 2 existed are indexed when it runs."""
    import sqlite3

    from newsletter.store.schema import SCHEMA_V1

    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.row_factory = sqlite3.Row
    old.executescript(SCHEMA_V1 + "PRAGMA user_version = 1;")
    # Rows as the version-1 program wrote them (today's upsert also consults the issues of
    # migration 3, which a version-1 file does not have; `connect` always migrates first).
    old.executemany(
        "INSERT INTO items (key, kind, source_id, url, title, summary_html, summary_text, published, "
        "first_seen, refreshed) VALUES (?, ?, 'arxiv-ai', ?, ?, ?, ?, ?, ?, ?)",
        [(e.key, e.kind.value, e.url, e.title, e.summary_html, e.summary_text, MORNING.isoformat(),
          MORNING.isoformat(), MORNING.isoformat()) for e in paper_entries()[:3]])
    old.close()

    conn = connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 2
        sections = sections_of(load_settings(write_config(tmp_path / "sources.yaml", "editor"), {}))
        assert keys(page(conn, sections, query="vocabularies")) == [VOCABULARY_PAPER]
    finally:
        conn.close()
