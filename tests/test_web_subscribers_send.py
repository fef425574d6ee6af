"""The composer's send controls over HTTP (httpx against the editor under uvicorn on loopback, a
real aiosmtpd sink, real fixture items approved with Korean commentary): a "[테스트]" copy to the
curator, "send now" behind a confirmation that returns at once while the send goes on in the
background, the delivery counts, and every refusal as a message with nothing sent."""

from __future__ import annotations

import re

from newsletter.flows import compose
from support.composer import ACTIVE_ON_THE_WIRE, ISSUE_DATE, approve_picks, build_now, gate, ready, with_readers
from support.smtp import wait_for_mail
from support.web import csrf_of, login


def numbers(page: str) -> dict[str, int]:
    return {name: int(n) for name, n in re.findall(r'<dd id="delivery-(\w+)"[^>]*>(\d+)</dd>', page)}


def deliveries(ed) -> int:
    with ed.reader() as conn:
        return conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]


def issue_status(ed) -> str:
    with ed.reader() as conn:
        return conn.execute("SELECT status FROM issues WHERE issue_date = ?", (ISSUE_DATE,)).fetchone()[0]


def test_send_a_test_to_me_arrives_marked_as_a_test_and_changes_nothing(mail_editor):
    ed = mail_editor()
    approve_picks(ed)
    build_now(ed)  # a draft: a test copy needs no more
    with ed.client() as client:
        login(client)
        page = client.get("/issue").text
        assert re.search(r'id="test-to" value="jisu@example.com"', page)  # settings.newsletter.contact
        csrf = csrf_of(page)
        sent = client.post("/issue/test", data={"csrf": csrf, "date": ISSUE_DATE, "address": "jisu@한국.kr"})
        assert sent.status_code == 200 and "테스트 메일을 jisu@한국.kr 주소로 보냈습니다" in sent.text
        wait_for_mail(ed.sink, 1)
        (copy,) = ed.sink.received
        assert copy.rcpt_tos == ("jisu@xn--3e0b707e.kr",)
        message = copy.message
        assert message["Subject"].startswith("[테스트] AI 뉴스 #1")
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
        assert "보안 위협 대응을 백 배 빠르게" in message.get_body(("html",)).get_content()

        bad = client.post("/issue/test", data={"csrf": csrf, "date": ISSUE_DATE, "address": "jisu@@example"})
        assert bad.status_code == 400 and 'id="send-error"' in bad.text and "받는 주소가 올바르지 않습니다" in bad.text
    assert ed.sink.count == 1 and issue_status(ed) == "draft" and deliveries(ed) == 0


def test_send_now_refusals_come_back_as_messages_and_send_nothing(mail_editor):
    ed = mail_editor()
    approve_picks(ed)
    issue = build_now(ed)
    with ed.client() as client:
        csrf = login(client)
        confirm = client.get(f"/issue/send?date={ISSUE_DATE}")
        assert confirm.status_code == 200 and "아직 초안입니다" in confirm.text and 'id="send-form"' not in confirm.text
        draft = client.post("/issue/send", data={"csrf": csrf, "date": ISSUE_DATE, "confirm": "yes"})
        assert draft.status_code == 409 and "아직 초안입니다" in draft.text
        assert 'id="send-refusal"' in client.get("/issue").text

        compose.mark_ready(ed.app.settings, ed.app.conn, issue, ed.clock(), ed.app.email)
        nobody = client.post("/issue/send", data={"csrf": csrf, "date": ISSUE_DATE, "confirm": "yes"})
        assert nobody.status_code == 409 and "구독 중인 사람이 없습니다" in nobody.text

        with_readers(ed)
        unconfirmed = client.post("/issue/send", data={"csrf": csrf, "date": ISSUE_DATE})
        assert unconfirmed.status_code == 400 and "확인란에 표시하세요" in unconfirmed.text

        ed.clock.advance(days=1)  # the issue's day is over: its deadline has passed
        late = client.post("/issue/send", data={"csrf": csrf, "date": ISSUE_DATE, "confirm": "yes"})
        assert late.status_code == 409 and "발송 마감(2024-07-20 00:00)이 지났습니다" in late.text
        assert "--force-late" in late.text

        forged = client.post("/issue/send", data={"csrf": "stale", "date": ISSUE_DATE, "confirm": "yes"})
        assert forged.status_code == 403
    assert ed.sink.count == 0 and deliveries(ed) == 0 and issue_status(ed) == "ready"


def test_without_an_smtp_server_the_composer_says_so(mail_editor):
    ed = mail_editor(smtp=False)
    ready(ed)
    with_readers(ed)
    with ed.client() as client:
        csrf = login(client)
        assert "메일 서버가 설정되지 않았습니다" in client.get("/issue").text
        refused = client.post("/issue/send", data={"csrf": csrf, "date": ISSUE_DATE, "confirm": "yes"})
        assert refused.status_code == 409 and "NEWSLETTER_SMTP_URL" in refused.text
        test = client.post("/issue/test", data={"csrf": csrf, "date": ISSUE_DATE, "address": "jisu@example.com"})
        assert test.status_code == 409 and "테스트 메일을 보내지 못했습니다" in test.text
    assert deliveries(ed) == 0 and issue_status(ed) == "ready"


def test_send_now_returns_at_once_then_delivers_to_every_active_subscriber_and_shows_the_counts(mail_editor):
    ed = mail_editor()
    issue = ready(ed)
    with_readers(ed)
    ed.sink.fail("gone@example.com", "550 5.1.1 그런 사용자 없음")
    opened = gate(ed.sink)
    with ed.client() as client:
        csrf = login(client)
        confirm = client.get(f"/issue/send?date={ISSUE_DATE}")
        assert re.search(r'id="send-recipients">6곳', confirm.text) and 'id="send-confirm"' in confirm.text

        started = client.post("/issue/send", data={"csrf": csrf, "date": ISSUE_DATE, "confirm": "yes"})
        assert started.status_code == 303
        assert started.headers["location"] == f"/issue?date={ISSUE_DATE}&notice=sending#send-panel"
        wait_for_mail(ed.sink, 1)  # the first message is in, and the server holds its answer
        assert not opened.is_set() and ed.send_jobs().get(issue.id).running  # the request did not wait

        during = client.get(started.headers["location"]).text
        assert 'data-running="true"' in during and "발송을 시작했습니다" in during
        assert numbers(during) == {"sent": 0, "failed": 0, "pending": 6, "total": 6}
        assert "<noscript><meta http-equiv=\"refresh\"" in during  # reloads itself without JavaScript
        polled = client.get("/api/issue/delivery", params={"date": ISSUE_DATE}).json()
        assert (polled["running"], polled["status"], polled["pending"]) == (True, "sending", 6)
        again = client.post("/issue/send", data={"csrf": csrf, "date": ISSUE_DATE, "confirm": "yes"})
        assert again.status_code == 409 and "지금 발송 중입니다" in again.text

        opened.set()
        job = ed.send_jobs().wait(issue.id, timeout=30)
        assert not job.running and job.error == ""
        after = client.get(f"/issue?date={ISSUE_DATE}").text
        assert numbers(after) == {"sent": 5, "failed": 1, "pending": 0, "total": 6}
        assert 'data-state="done"' in after and "gone@example.com: 550 5.1.1 그런 사용자 없음" in after
        assert 'id="send-now"' not in after and "<noscript><meta" not in after
        polled = client.get("/api/issue/delivery", params={"date": ISSUE_DATE}).json()
        assert (polled["running"], polled["status"], polled["sent"], polled["failed"]) == (False, "sent", 5, 1)
        assert polled["failures"] == [{"email": "gone@example.com", "reply": "550 5.1.1 그런 사용자 없음"}]
        twice = client.post("/issue/send", data={"csrf": csrf, "date": ISSUE_DATE, "confirm": "yes"})
        assert twice.status_code == 409 and "이미 발송된 호입니다" in twice.text

    for address in ACTIVE_ON_THE_WIRE:
        (received,) = ed.sink.to(address)
        assert received.message["Subject"].startswith("AI 뉴스 #1")
        assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for address in ("gone@example.com", "left@example.com", "waiting@example.com"):
        assert ed.sink.to(address) == []
    assert ed.sink.count == 5 and issue_status(ed) == "sent"
