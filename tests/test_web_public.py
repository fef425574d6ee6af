"""The public pages over HTTP (httpx against the editor under uvicorn on loopback, a real aiosmtpd
sink, a real SQLite file): subscribe without a login or CSRF token but never across sites, one
answer whatever the address, honeypot and rate limits before any write or mail, no header
injection, signed links that change nothing when forged or expired, and RFC 8058 one-click
unsubscribe from the List-Unsubscribe URL of a real sent issue."""

from __future__ import annotations

import re
from datetime import date

import pytest

from newsletter.flows import compose
from newsletter.mail.tokens import TokenPurpose, Tokens
from newsletter.flows.roster import add_addresses
from support.apps import SECRET, ready_issue
from support.smtp import wait_for_mail
from support.web import confirm_link, login, unsubscribe_link

ISSUE_DAY = date(2024, 7, 19)


def subscribe(client, email: str, *, website: str = "", ip: str | None = None, origin: str | None = "same",
              referer: str | None = None):
    headers = {}
    if origin == "same":
        headers["Origin"] = str(client.base_url).rstrip("/")
    elif origin is not None:
        headers["Origin"] = origin
    if referer is not None:
        headers["Referer"] = referer
    if ip is not None:
        headers["X-Forwarded-For"] = ip  # honoured from the loopback proxy, as behind nginx
    return client.post("/subscribe", data={"email": email, "website": website}, headers=headers)


def test_the_subscribe_form_is_public_korean_and_hides_its_honeypot(mail_editor):
    ed = mail_editor()
    with ed.client() as client:
        page = client.get("/subscribe")
    assert page.status_code == 200
    assert '<html lang="ko">' in page.text and "구독" in page.text
    form = re.search(r'<form method="post" action="/subscribe".*?</form>', page.text, re.S)[0]
    assert 'name="email"' in form and 'name="csrf"' not in form
    honeypot = re.search(r'<div class="hp" aria-hidden="true">.*?</div>', form, re.S)[0]
    assert 'name="website"' in honeypot and 'tabindex="-1"' in honeypot
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_subscribe_then_confirm_by_post_only_a_get_changes_nothing(mail_editor):
    ed = mail_editor()
    with ed.client() as client:
        answer = subscribe(client, "  Kim.MinJi@Example.COM ")
        assert answer.status_code == 200 and "메일함을 확인해 주세요" in answer.text
        assert "kim.minji@example.com" in answer.text
        assert ed.subscriber("kim.minji@example.com") == ("pending", "form")
        wait_for_mail(ed.sink, 1)
        (mail,) = ed.sink.received
        assert mail.rcpt_tos == ("kim.minji@example.com",) and mail.message["Subject"] == "AI 뉴스 구독 확인"
        link = confirm_link(mail)
        assert link.startswith(ed.url + "/confirm/")
        for _ in range(3):  # a link scanner fetching the link, again and again
            shown = client.get(link)
            assert shown.status_code == 200 and 'id="confirm-form"' in shown.text
            assert ed.subscriber("kim.minji@example.com") == ("pending", "form")
        assert "ki*******@example.com" in shown.text  # enough for the owner, little for a forwardee
        done = client.post(link)
        assert done.status_code == 200 and "구독이 시작되었습니다" in done.text
        assert ed.subscriber("kim.minji@example.com") == ("active", "confirm")
        again = client.post(link)
        assert again.status_code == 200 and "이미 구독 중입니다" in again.text


def test_the_answer_is_the_same_whether_the_address_is_new_known_or_a_bot(mail_editor):
    ed = mail_editor()
    add_addresses(ed.app.subscriptions, ["known@example.com"], ed.clock(), how="cli")
    with ed.client() as client:
        new = subscribe(client, "new@example.com")
        known = subscribe(client, "known@example.com")
        bot = subscribe(client, "bot@example.com", website="https://spam.example")
    assert new.status_code == known.status_code == bot.status_code == 200
    pages = [answer.text.replace(address, "ADDRESS") for answer, address in
             ((new, "new@example.com"), (known, "known@example.com"), (bot, "bot@example.com"))]
    assert pages[0] == pages[1] == pages[2]
    wait_for_mail(ed.sink, 1)
    assert [m.rcpt_tos for m in ed.sink.received] == [("new@example.com",)]  # nothing to the known one
    assert ed.subscriber("known@example.com") == ("active", "cli")
    assert "spam.example" not in bot.text


def test_a_filled_honeypot_writes_nothing_and_mails_nothing(mail_editor):
    ed = mail_editor()
    before = ed.written()
    with ed.client() as client:
        answer = subscribe(client, "victim@example.com", website="x\r\nBcc: evil@example.com")
    assert answer.status_code == 200 and "메일함을 확인해 주세요" in answer.text
    assert ed.written() == before and ed.sink.count == 0


def test_rate_limits_per_ip_and_per_address_hold_before_any_write_or_mail(mail_editor):
    ed = mail_editor(web={"subscribe_per_ip_per_hour": 3, "subscribe_per_address_per_day": 2})
    with ed.client() as client:
        for n in range(3):
            assert subscribe(client, f"reader{n}@example.com", ip="203.0.113.7").status_code == 200
        before = ed.written()
        refused = subscribe(client, "reader3@example.com", ip="203.0.113.7")
        assert refused.status_code == 429 and "너무 많습니다" in refused.text
        assert ed.written() == before and ed.subscriber("reader3@example.com") is None
        assert subscribe(client, "reader3@example.com", ip="198.51.100.1").status_code == 200  # another IP

        # one address, from ever new addresses: the per-address limit holds
        assert subscribe(client, "target@example.com", ip="198.51.100.2").status_code == 200
        assert subscribe(client, "target@example.com", ip="198.51.100.3").status_code == 200
        before = ed.written()
        assert subscribe(client, "target@example.com", ip="198.51.100.4").status_code == 429
        assert ed.written() == before
        wait_for_mail(ed.sink, 6)
        assert len(ed.sink.to("target@example.com")) == 2

        ed.clock.advance(minutes=61)  # the hourly window has passed for the first IP
        assert subscribe(client, "reader4@example.com", ip="203.0.113.7").status_code == 200
        assert subscribe(client, "target@example.com", ip="198.51.100.5").status_code == 429  # a day's limit
    wait_for_mail(ed.sink, 7)
    assert ed.sink.count == 7


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page.html"},
    {"Origin": "https://news.example.com.evil.example"},
], ids=["origin", "null-origin", "referer", "lookalike"])
def test_a_post_from_another_site_is_refused_and_changes_nothing(mail_editor, headers):
    ed = mail_editor(site_url="https://news.example.com")
    before = ed.written()
    with ed.client() as client:
        answer = client.post("/subscribe", data={"email": "victim@example.com", "website": ""}, headers=headers)
    assert answer.status_code == 403 and "다른 사이트" in answer.text
    assert ed.written() == before and ed.sink.count == 0


def test_the_static_archive_on_site_url_and_scripts_without_origin_may_post(mail_editor):
    ed = mail_editor(site_url="https://news.example.com")
    with ed.client() as client:
        from_archive = subscribe(client, "reader@example.com", origin="https://news.example.com",
                                 referer="https://news.example.com/issues/2024-07-19/")
        from_script = subscribe(client, "script@example.com", origin=None)
    assert from_archive.status_code == from_script.status_code == 200
    wait_for_mail(ed.sink, 2)
    assert confirm_link(ed.sink.to("reader@example.com")[0]).startswith("https://news.example.com/confirm/")


@pytest.mark.parametrize("typed", [
    "victim@example.com\r\nBcc: evil@example.com",
    "victim@example.com\nSubject: 무료 광고",
    "victim@example.com\rTo: evil@example.com",
    '"x\r\nBcc: evil@example.com"@example.com',
    "victim@example.com%0D%0ABcc:evil@example.com",
    "evil@example.com, victim@example.com",
])
def test_header_injection_in_the_address_never_reaches_the_wire(mail_editor, typed):
    ed = mail_editor()
    before = ed.written()
    with ed.client() as client:
        answer = subscribe(client, typed)
    assert answer.status_code == 400 and "올바른 이메일 주소가 아닙니다" in answer.text
    assert "evil" not in answer.text and "광고" not in answer.text  # nothing typed is echoed
    assert ed.written() == before and ed.sink.count == 0


def test_an_address_with_a_trailing_newline_gets_one_clean_message(mail_editor):
    ed = mail_editor()
    with ed.client() as client:
        assert subscribe(client, "victim@example.com\r\n").status_code == 200
    wait_for_mail(ed.sink, 1)
    (mail,) = ed.sink.received
    assert mail.rcpt_tos == ("victim@example.com",)
    head = mail.data.split(b"\r\n\r\n", 1)[0]
    assert mail.message["To"] == "victim@example.com" and b"Bcc" not in head


def altered(token: str) -> list[str]:
    payload, signature = token.rsplit(".", 1)
    flip = lambda text, n: text[:n] + ("A" if text[n] != "A" else "B") + text[n + 1:]  # noqa: E731
    return [flip(payload, len(payload) // 2) + "." + signature, payload + "." + flip(signature, 3),
            token[:-4], token + "x", "garbage", token.replace(".", "")]


def test_forged_altered_or_expired_links_get_a_400_page_and_change_nothing(mail_editor):
    ed = mail_editor()
    with ed.client() as client:
        subscribe(client, "pending@example.com")
        wait_for_mail(ed.sink, 1)
        good_confirm = confirm_link(ed.sink.received[0]).rsplit("/", 1)[1]
    add_addresses(ed.app.subscriptions, ["active@example.com"], ed.clock(), how="cli")
    with ed.reader() as conn:
        ids = dict(conn.execute("SELECT email, id FROM subscribers").fetchall())
    ours, theirs = Tokens(SECRET), Tokens("someone else's secret")
    good_unsubscribe = ours.make(TokenPurpose.UNSUBSCRIBE, ids["active@example.com"], "active@example.com")
    confirm_forgeries = altered(good_confirm) + [
        theirs.make(TokenPurpose.CONFIRM, ids["pending@example.com"], "pending@example.com", ed.clock()),
        ours.make(TokenPurpose.UNSUBSCRIBE, ids["pending@example.com"], "pending@example.com"),  # wrong purpose
        ours.make(TokenPurpose.CONFIRM, ids["pending@example.com"], "active@example.com", ed.clock()),  # wrong address
    ]
    unsubscribe_forgeries = altered(good_unsubscribe) + [
        theirs.make(TokenPurpose.UNSUBSCRIBE, ids["active@example.com"], "active@example.com"),
        good_confirm,  # a confirm token is no unsubscribe token
        ours.make(TokenPurpose.UNSUBSCRIBE, ids["active@example.com"], "pending@example.com"),
    ]
    before = ed.written()
    with ed.client() as client:
        for token in confirm_forgeries:
            for method in ("GET", "POST"):
                answer = client.request(method, f"/confirm/{token}")
                assert answer.status_code == 400, (method, token)
                assert "쓸 수 없는 링크" in answer.text and "아무것도 바뀌지 않았습니다" in answer.text
        for token in unsubscribe_forgeries:
            for method in ("GET", "POST"):
                answer = client.request(method, f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
                                        if method == "POST" else None)
                assert answer.status_code == 400, (method, token)
                assert "쓸 수 없는 링크" in answer.text
        assert ed.written() == before

        ed.clock.advance(days=8)  # the confirm link lasts 7 days
        for method in ("GET", "POST"):
            answer = client.request(method, f"/confirm/{good_confirm}")
            assert answer.status_code == 400 and "만료된 링크" in answer.text
    assert ed.written() == before
    assert ed.subscriber("pending@example.com") == ("pending", "form")
    assert ed.subscriber("active@example.com") == ("active", "cli")


def test_rfc8058_one_click_post_to_the_list_unsubscribe_url_of_a_sent_issue(mail_editor):
    ed = mail_editor()
    readers = ["minji@example.com", "seojun@한국.kr", "haneul@example.com"]
    add_addresses(ed.app.subscriptions, readers, ed.clock(), how="cli")
    issue = ready_issue(ed.app.conn, ISSUE_DAY, ed.clock())
    rendered = compose.render_stored_issue(ed.app.settings, ed.app.conn, issue, ed.app.email)
    ed.app.send_issue(issue, rendered)
    assert ed.sink.count == 3
    (to_minji,) = ed.sink.to("minji@example.com")
    (to_seojun,) = ed.sink.to("seojun@xn--3e0b707e.kr")
    assert to_minji.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = unsubscribe_link(to_minji)
    assert url.startswith(ed.url + "/unsubscribe/") and url in to_minji.message.get_body(("plain",)).get_content()

    with ed.client() as client:  # no cookie, as a mail provider's server would come
        shown = client.get(url)
        assert shown.status_code == 200 and 'id="unsubscribe-form"' in shown.text
        assert ed.subscriber("minji@example.com") == ("active", "cli")  # a GET changes nothing
        one_click = client.post(url, content=b"List-Unsubscribe=One-Click",
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert one_click.status_code == 200 and not one_click.cookies
        assert ed.subscriber("minji@example.com") == ("unsubscribed", "one-click")
        again = client.post(url, content=b"List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert again.status_code == 200 and "수신 거부되었습니다" in again.text
    with ed.reader() as conn:
        events = conn.execute("SELECT e.to_status, e.how FROM subscriber_events e JOIN subscribers ON subscribers.id = "
                              "e.subscriber_id WHERE email = 'minji@example.com' ORDER BY e.id").fetchall()
    assert [tuple(e) for e in events] == [("active", "cli"), ("unsubscribed", "one-click")]  # once, idempotent

    with ed.client() as client:  # the button on the page, with a curator's session cookie present
        login(client)
        button = client.post(unsubscribe_link(to_seojun), data={})
        assert button.status_code == 200
    assert ed.subscriber("seojun@한국.kr") == ("unsubscribed", "page")
    assert ed.subscriber("haneul@example.com") == ("active", "cli")


def test_without_a_secret_the_public_pages_say_so_and_write_nothing(editor):
    ed = editor()  # no NEWSLETTER_SECRET, no SMTP server
    with ed.client() as client:
        assert client.get("/subscribe").status_code == 200
        answer = client.post("/subscribe", data={"email": "reader@example.com", "website": ""})
        assert answer.status_code == 503 and "준비되지 않았습니다" in answer.text
        assert client.get("/unsubscribe/anything").status_code == 503
    with ed.reader() as conn:
        assert conn.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0
