"""Subscribers: double opt-in through a real SMTP server, signed links that only their owner can
use, rate limits and the honeypot before any write or mail, and the operator's roster."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest

from newsletter.mail.tokens import TokenPurpose, Tokens
from newsletter.model import SubscriberStatus
from newsletter.store import connect, subscribers
from newsletter.flows.roster import (AddOutcome, RemoveOutcome, RowVerdict, add_addresses, apply_import,
                                     decode_csv, export_csv, preview_import, remove_addresses)
from newsletter.flows.subscribe import LinkOutcome, SubscribeOutcome
from support.apps import app_for
from support.smtp import SmtpSink

NOW = datetime(2024, 7, 19, 1, 30, tzinfo=timezone.utc)
IP = "203.0.113.9"


def written(app) -> tuple[int, int, int]:
    """Rows in the tables a subscribe may write: subscribers, their events, attempts."""
    return tuple(app.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                 for table in ("subscribers", "subscriber_events", "subscribe_attempts"))


def confirm_token(received) -> str:
    text = received.message.get_body(("plain",)).get_content()
    line = next(line for line in text.splitlines() if "/confirm/" in line)
    return line.strip().rsplit("/", 1)[1]


@pytest.fixture
def sink():
    with SmtpSink() as running:
        yield running


@pytest.fixture
def app(tmp_path, sink):
    running = app_for(tmp_path, "mail", sink, clock=lambda: NOW)
    yield running
    running.close()


def test_subscribe_sends_one_confirmation_that_echoes_only_the_address(app, sink):
    result = app.subscriptions.subscribe("  O'Brien&Co@Example.COM ", IP, "", NOW)
    assert result.outcome is SubscribeOutcome.CONFIRMATION_SENT and result.looks_sent
    assert result.email == "o'brien&co@example.com"
    subscriber = subscribers.get_by_email(app.conn, "o'brien&co@example.com")
    assert subscriber.status is SubscriberStatus.PENDING and subscriber.how == "form"

    (received,) = sink.received
    assert received.rcpt_tos == ("o'brien&co@example.com",)
    message = received.message
    assert message["Subject"] == "AI 뉴스 구독 확인" and message["List-Unsubscribe"] is None
    assert message["Message-ID"].endswith("@example.com>")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "o'brien&co@example.com 주소로 AI 뉴스 구독 신청이 들어왔습니다" in text
    assert "o&#39;brien&amp;co@example.com" in html and "o'brien&co" not in html  # escaped in HTML
    assert 'lang="ko"' in html and "구독 확인하기" in html
    token = confirm_token(received)
    assert f"https://news.example.com/confirm/{token}" in html


def test_confirm_get_changes_nothing_post_confirms_once(app, sink):
    app.subscriptions.subscribe("kim@example.com", IP, "", NOW)
    token = confirm_token(sink.received[0])
    subs = app.subscriptions
    later = NOW + timedelta(hours=2)

    looked = subs.check_confirm(token, later)  # the link's GET (and any link scanner)
    assert looked.outcome is LinkOutcome.VALID
    assert subscribers.get_by_email(app.conn, "kim@example.com").status is SubscriberStatus.PENDING

    done = subs.confirm(token, later)
    assert done.outcome is LinkOutcome.DONE and done.subscriber.status is SubscriberStatus.ACTIVE
    assert subs.confirm(token, later).outcome is LinkOutcome.ALREADY
    history = subscribers.history(app.conn, done.subscriber.id)
    assert [(e.from_status, e.to_status, e.how, e.at) for e in history] == [
        (None, SubscriberStatus.PENDING, "form", NOW),
        (SubscriberStatus.PENDING, SubscriberStatus.ACTIVE, "confirm", later)]


def test_forged_altered_expired_or_misused_tokens_change_nothing(app, sink):
    subs = app.subscriptions
    subs.subscribe("kim@example.com", IP, "", NOW)
    subs.subscribe("lee@example.com", "198.51.100.1", "", NOW)
    kim = subscribers.get_by_email(app.conn, "kim@example.com")
    lee = subscribers.get_by_email(app.conn, "lee@example.com")
    genuine = confirm_token(sink.to("kim@example.com")[0])
    payload, signature = genuine.split(".")
    lee_payload = base64.urlsafe_b64encode(
        json.dumps([lee.id] + json.loads(base64.urlsafe_b64decode(payload + "==").decode())[1:],
                   separators=(",", ":")).encode()).decode().rstrip("=")
    other_key = Tokens("someone-elses-secret").make(TokenPurpose.CONFIRM, kim.id, "kim@example.com", NOW)
    for_another_address = subs.tokens.make(TokenPurpose.CONFIRM, kim.id, "lee@example.com", NOW)
    unsubscribe_token = subs.tokens.make(TokenPurpose.UNSUBSCRIBE, kim.id, "kim@example.com")
    before = written(app)
    forged = [
        genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),  # altered signature
        f"{lee_payload}.{signature}",  # kim's signature on a payload naming lee
        other_key,  # signed with another key
        for_another_address,  # genuine signature, bound to another address
        unsubscribe_token,  # a token for another purpose
        "", "not-a-token", genuine + "x", genuine.split(".")[0],
    ]
    for token in forged:
        assert subs.check_confirm(token, NOW).outcome is LinkOutcome.INVALID, token
        assert subs.confirm(token, NOW).outcome is LinkOutcome.INVALID, token
    expired = subs.confirm(genuine, NOW + timedelta(days=7, seconds=1))
    assert expired.outcome is LinkOutcome.EXPIRED
    assert written(app) == before
    assert {s.status for s in subscribers.list_subscribers(app.conn)} == {SubscriberStatus.PENDING}
    for token in forged[:4] + [confirm_token(sink.to("kim@example.com")[0]).replace(".", ".x", 1)]:
        assert subs.unsubscribe(token, NOW).outcome is LinkOutcome.INVALID
    assert written(app) == before
    assert subs.confirm(genuine, NOW + timedelta(days=6)).outcome is LinkOutcome.DONE  # the real one works


def test_honeypot_and_bad_addresses_write_and_mail_nothing(app, sink):
    subs = app.subscriptions
    bot = subs.subscribe("victim@example.com", IP, "http://spam.example", NOW)
    assert bot.outcome is SubscribeOutcome.HONEYPOT and bot.looks_sent  # the bot learns nothing
    for bad in ("victim@example.com\r\nBcc: other@example.com", "victim@example.com, other@example.com",
                "not an address", "독자@example.com", "", "a@b"):
        result = subs.subscribe(bad, IP, "", NOW)
        assert result.outcome is SubscribeOutcome.INVALID_ADDRESS and not result.looks_sent
    assert written(app) == (0, 0, 0) and sink.count == 0


def test_rate_limits_per_ip_and_per_address_hold_before_any_write_or_mail(app, sink):
    subs = app.subscriptions  # defaults: 5 per IP per hour, 3 per address per day
    for n in range(5):
        assert subs.subscribe(f"reader{n}@example.com", IP, "", NOW).outcome is SubscribeOutcome.CONFIRMATION_SENT
    before = written(app)
    limited = subs.subscribe("reader5@example.com", IP, "", NOW + timedelta(minutes=59))
    assert limited.outcome is SubscribeOutcome.RATE_LIMITED and not limited.looks_sent
    assert written(app) == before and sink.count == 5
    assert subscribers.get_by_email(app.conn, "reader5@example.com") is None
    assert subs.subscribe("reader5@example.com", "198.51.100.2", "", NOW).outcome is SubscribeOutcome.CONFIRMATION_SENT
    assert subs.subscribe("reader6@example.com", IP, "", NOW + timedelta(minutes=61)).outcome \
        is SubscribeOutcome.CONFIRMATION_SENT  # the hour has passed

    # one address from many IPs: mail-bombing a stranger stops at 3 a day
    for n in range(2):
        assert subs.subscribe("Target@Example.com", f"192.0.2.{n}", "", NOW).looks_sent
    assert subs.subscribe("target@example.com", "192.0.2.9", "", NOW).outcome is SubscribeOutcome.CONFIRMATION_SENT
    assert subs.subscribe("TARGET@example.com", "192.0.2.10", "", NOW).outcome is SubscribeOutcome.RATE_LIMITED
    assert len(sink.to("target@example.com")) == 3
    assert subs.subscribe("target@example.com", "192.0.2.11", "", NOW + timedelta(days=1, seconds=1)).looks_sent
    stored_ips = [row[0] for row in app.conn.execute("SELECT ip_hash FROM subscribe_attempts")]
    assert IP not in stored_ips and all(len(h) == 32 for h in stored_ips)  # only a keyed hash is kept


def test_an_active_subscriber_is_not_told_apart_and_not_mailed(app, sink):
    add_addresses(app.subscriptions, ["kim@example.com"], NOW)
    result = app.subscriptions.subscribe("kim@example.com", IP, "", NOW)
    assert result.outcome is SubscribeOutcome.ALREADY_ACTIVE and result.looks_sent
    assert sink.count == 0


def test_leaving_and_coming_back_needs_a_fresh_confirmation(app, sink):
    subs = app.subscriptions
    subs.subscribe("kim@example.com", IP, "", NOW)
    old_token = confirm_token(sink.received[0])
    kim = subs.confirm(old_token, NOW).subscriber
    assert subs.unsubscribe(subs.unsubscribe_url(kim).rsplit("/", 1)[1], NOW, how="page").outcome is LinkOutcome.DONE
    assert subs.confirm(old_token, NOW).outcome is LinkOutcome.INVALID  # an old link does not re-add them
    assert subscribers.get(app.conn, kim.id).status is SubscriberStatus.UNSUBSCRIBED

    assert subs.subscribe("kim@example.com", IP, "", NOW + timedelta(hours=1)).outcome \
        is SubscribeOutcome.CONFIRMATION_SENT
    assert subscribers.get(app.conn, kim.id).status is SubscriberStatus.PENDING
    assert subs.confirm(confirm_token(sink.received[-1]), NOW + timedelta(hours=1)).outcome is LinkOutcome.DONE
    hows = [e.how for e in subscribers.history(app.conn, kim.id)]
    assert hows == ["form", "confirm", "page", "form", "confirm"]


def test_a_failing_smtp_server_leaves_the_subscriber_pending_and_says_so(tmp_path):
    app = app_for(tmp_path, "mail", None, clock=lambda: NOW)  # no NEWSLETTER_SMTP_URL
    result = app.subscriptions.subscribe("kim@example.com", IP, "", NOW)
    assert result.outcome is SubscribeOutcome.MAIL_FAILED and not result.looks_sent
    assert subscribers.get_by_email(app.conn, "kim@example.com").status is SubscriberStatus.PENDING
    app.close()


def test_the_operator_adds_active_subscribers_but_never_overrides_an_opt_out(app, sink):
    subs = app.subscriptions
    subs.subscribe("left@example.com", IP, "", NOW)
    left = subs.confirm(confirm_token(sink.received[0]), NOW).subscriber
    subs.unsubscribe(subs.unsubscribe_url(left).rsplit("/", 1)[1], NOW, how="one-click")
    add_addresses(subs, ["removed@example.com"], NOW)
    remove_addresses(subs, ["removed@example.com"], NOW)
    subs.subscribe("waiting@example.com", IP, "", NOW)

    results = add_addresses(subs, ["new@example.com", "NEW@example.com", "left@example.com", "removed@example.com",
                                   "waiting@example.com", "bad@@example.com"], NOW + timedelta(hours=1))
    assert [r.outcome for r in results] == [AddOutcome.ADDED, AddOutcome.ALREADY, AddOutcome.OPTED_OUT,
                                            AddOutcome.ACTIVATED, AddOutcome.ACTIVATED, AddOutcome.INVALID]
    assert "unsubscribed themselves (one-click)" in results[2].detail
    status = {s.email: s.status for s in subscribers.list_subscribers(app.conn)}
    assert status == {"new@example.com": SubscriberStatus.ACTIVE, "left@example.com": SubscriberStatus.UNSUBSCRIBED,
                      "removed@example.com": SubscriberStatus.ACTIVE, "waiting@example.com": SubscriberStatus.ACTIVE}
    assert sink.count == 2  # the two form confirmations; the operator's adds mail nobody


def test_pending_adds_get_the_opt_in_mail_instead(app, sink):
    results = add_addresses(app.subscriptions, ["kim@example.com", "lee@한국.kr"], NOW, pending=True)
    assert [r.outcome for r in results] == [AddOutcome.INVITED, AddOutcome.INVITED]
    assert {r.rcpt_tos[0] for r in sink.received} == {"kim@example.com", "lee@xn--3e0b707e.kr"}
    assert "lee@한국.kr 주소로" in sink.to("lee@xn--3e0b707e.kr")[0].message.get_body(("plain",)).get_content()
    assert {s.status for s in subscribers.list_subscribers(app.conn)} == {SubscriberStatus.PENDING}
    token = confirm_token(sink.to("lee@xn--3e0b707e.kr")[0])
    assert app.subscriptions.confirm(token, NOW).outcome is LinkOutcome.DONE


CSV_CP949 = ("이름,이메일,메모\r\n김민지,Kim.MinJi@Example.com,첫 구독자\r\n이서준,lee@한국.kr,\r\n"
             "중복,kim.minji@example.COM,대소문자만 다름\r\n오타,park@@example.com,\r\n빈칸,,\r\n"
             "기존,old@example.com,\r\n퓨니코드,lee@xn--3e0b707e.kr,같은 주소\r\n").encode("cp949")


def test_csv_import_previews_dedupes_and_then_imports(app, sink):
    add_addresses(app.subscriptions, ["old@example.com"], NOW)
    preview = preview_import(app.conn, decode_csv(CSV_CP949))
    assert preview.column == "이메일"
    verdicts = [(row.line, row.email, row.verdict) for row in preview.rows]
    assert verdicts == [
        (2, "kim.minji@example.com", RowVerdict.NEW), (3, "lee@한국.kr", RowVerdict.NEW),
        (4, "kim.minji@example.com", RowVerdict.DUPLICATE), (5, "", RowVerdict.INVALID),
        (6, "", RowVerdict.INVALID), (7, "old@example.com", RowVerdict.EXISTS),
        (8, "lee@한국.kr", RowVerdict.DUPLICATE)]
    assert preview.rows[2].detail == "same as line 2" and preview.rows[5].status is SubscriberStatus.ACTIVE
    assert subscribers.counts(app.conn)["active"] == 1  # the preview wrote nothing

    results = apply_import(app.subscriptions, preview, NOW)
    assert [(r.email, r.outcome) for r in results] == [
        ("kim.minji@example.com", AddOutcome.ADDED), ("lee@한국.kr", AddOutcome.ADDED),
        ("old@example.com", AddOutcome.ALREADY)]
    assert subscribers.get_by_email(app.conn, "lee@한국.kr").how == "import"
    assert sink.count == 0


def test_csv_without_a_header_and_with_semicolons(tmp_path):
    text = "kim@example.com;Kim\nlee@example.com;Lee\n"
    conn = connect(tmp_path / "x.db")
    preview = preview_import(conn, text)
    conn.close()
    assert preview.column == "#1" and [r.email for r in preview.rows] == ["kim@example.com", "lee@example.com"]


def test_export_is_a_csv_every_subscriber_survives_a_round_trip(app, tmp_path):
    add_addresses(app.subscriptions, ["kim@example.com", "lee@한국.kr"], NOW)
    remove_addresses(app.subscriptions, ["kim@example.com"], NOW)
    out = tmp_path / "export.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        assert export_csv(app.conn, handle) == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines == ["email,status,created,changed,how", "kim@example.com,unsubscribed,2024-07-19T01:30:00Z,"
                     "2024-07-19T01:30:00Z,cli", "lee@한국.kr,active,2024-07-19T01:30:00Z,2024-07-19T01:30:00Z,cli"]
    preview = preview_import(app.conn, out.read_text(encoding="utf-8"))
    assert preview.column == "email" and [r.verdict for r in preview.rows] == [RowVerdict.EXISTS] * 2


def test_remove_keeps_the_record(app):
    add_addresses(app.subscriptions, ["kim@example.com"], NOW)
    results = remove_addresses(app.subscriptions, ["KIM@example.com", "kim@example.com", "nobody@example.com", "x"],
                               NOW)
    assert [outcome for _, outcome in results] == [RemoveOutcome.REMOVED, RemoveOutcome.ALREADY,
                                                   RemoveOutcome.NOT_FOUND, RemoveOutcome.INVALID]
    kim = subscribers.get_by_email(app.conn, "kim@example.com")
    assert kim.status is SubscriberStatus.UNSUBSCRIBED and kim.how == "cli"


def test_subscriptions_need_the_secret(tmp_path):
    from newsletter.errors import ConfigError

    app = app_for(tmp_path, "mail", db="x.db", environ={})  # the mail preset, without NEWSLETTER_SECRET
    with pytest.raises(ConfigError, match="NEWSLETTER_SECRET"):
        app.subscriptions  # noqa: B018 (building them is the point)
    app.close()
