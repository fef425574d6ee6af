"""The subscribers page over HTTP (httpx against the editor under uvicorn on loopback, a real
aiosmtpd sink, a real SQLite file): login and CSRF, counts, search, add and remove, a CSV import
with a Hangul name column previewed before it changes anything, and an export Excel reads."""

from __future__ import annotations

import csv
import io
import re

import pytest

from newsletter.flows.roster import add_addresses
from support.smtp import wait_for_mail
from support.web import csrf_of, login

IMPORT_CSV = ("이름,이메일,메모\r\n"
              "김민지,Minji.Kim@Example.com,첫 구독자\r\n"
              "이서준,seojun@한국.kr,한글 도메인\r\n"
              "김민지 (회사),minji.kim@example.com,같은 사람\r\n"
              "박하늘,하늘@example.com,한글 로컬 파트\r\n"
              "최유나,yuna@example.com,이미 구독 중\r\n"
              "정다은,daeun@example.com,본인이 수신 거부\r\n")


def roster(ed) -> dict[str, tuple[str, str]]:
    with ed.reader() as conn:
        return {row[0]: (row[1], row[2]) for row in conn.execute("SELECT email, status, how FROM subscribers")}


def page_csrf(client) -> str:
    return csrf_of(client.get("/subscribers").text)


def test_the_subscriber_pages_need_a_login_and_their_posts_a_csrf_token(mail_editor):
    ed = mail_editor()
    add_addresses(ed.app.subscriptions, ["kim@example.com"], ed.clock(), how="cli")
    before = roster(ed)
    with ed.client() as client:
        for method, path, data in (("GET", "/subscribers", None), ("GET", "/subscribers/export.csv", None),
                                   ("POST", "/subscribers/add", {"addresses": "evil@example.com"}),
                                   ("POST", "/subscribers/remove", {"email": "kim@example.com"}),
                                   ("POST", "/subscribers/import/confirm", {"carried": "", "confirm": "yes"})):
            answer = client.request(method, path, data=data)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=%2F"), path
        login(client)
        for path, data in (("/subscribers/add", {"addresses": "evil@example.com"}),
                           ("/subscribers/remove", {"email": "kim@example.com"})):
            for csrf in (None, "forged"):
                answer = client.post(path, data={**data, **({"csrf": csrf} if csrf else {})})
                assert answer.status_code == 403 and "CSRF" in answer.text, path
        refused = client.post("/subscribers/import", data={"csrf": "forged"},
                              files={"csv": ("list.csv", IMPORT_CSV.encode("utf-8"), "text/csv")})
        assert refused.status_code == 403
    assert roster(ed) == before


def test_counts_add_search_and_remove(mail_editor):
    ed = mail_editor()
    with ed.client() as client:
        login(client)
        page = client.get("/subscribers")
        assert 'href="/subscribers"' in page.text and "구독자" in page.text  # in the nav
        csrf = csrf_of(page.text)
        added = client.post("/subscribers/add", data={
            "csrf": csrf, "addresses": "Kim@Example.com\r\nlee@한국.kr, not-an-address; park@example.com"})
        assert added.status_code == 400  # one line was wrong: say so, keep what was typed
        results = re.search(r'<section class="results" id="add-results">.*?</section>', added.text, re.S)[0]
        assert results.count('data-outcome="added"') == 3 and results.count('data-outcome="invalid"') == 1
        assert "not-an-address" in re.search(r"<textarea[^>]*>(.*?)</textarea>", added.text, re.S)[1]
        assert roster(ed) == {"kim@example.com": ("active", "admin"), "lee@한국.kr": ("active", "admin"),
                              "park@example.com": ("active", "admin")}

        page = client.get("/subscribers")
        assert re.search(r'id="count-active">3<', page.text) and re.search(r'id="count-unsubscribed">0<', page.text)
        found = client.get("/subscribers", params={"q": "한국"})
        assert re.findall(r'<tr data-email="([^"]+)"', found.text) == ["lee@한국.kr"]

        removed = client.post("/subscribers/remove", data={"csrf": csrf, "email": "kim@example.com",
                                                           "next": "/subscribers?q=kim"})
        assert removed.status_code == 303 and removed.headers["location"] == "/subscribers?q=kim&notice=removed"
        assert roster(ed)["kim@example.com"] == ("unsubscribed", "admin")  # the record stays
        page = client.get("/subscribers", params={"status": "unsubscribed"})
        assert re.findall(r'<tr data-email="([^"]+)"', page.text) == ["kim@example.com"]

        # someone who left by themselves is not put back by the operator
        ed.app.conn.execute("UPDATE subscribers SET how = 'one-click' WHERE email = 'kim@example.com'")
        again = client.post("/subscribers/add", data={"csrf": csrf, "addresses": "kim@example.com"})
        assert 'data-outcome="opted_out"' in again.text and "본인이 수신 거부함" in again.text
        assert roster(ed)["kim@example.com"] == ("unsubscribed", "one-click")


def test_adding_as_pending_sends_the_opt_in_mail(mail_editor):
    ed = mail_editor()
    with ed.client() as client:
        login(client)
        answer = client.post("/subscribers/add", data={"csrf": page_csrf(client), "addresses": "new@example.com",
                                                       "pending": "yes"})
    assert answer.status_code == 200 and 'data-outcome="invited"' in answer.text
    wait_for_mail(ed.sink, 1)
    assert ed.sink.received[0].rcpt_tos == ("new@example.com",)
    assert roster(ed) == {"new@example.com": ("pending", "admin")}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp949"])
def test_csv_import_previews_dedupes_and_changes_nothing_until_confirmed(mail_editor, encoding):
    ed = mail_editor()
    add_addresses(ed.app.subscriptions, ["yuna@example.com", "daeun@example.com"], ed.clock(), how="cli")
    ed.app.conn.execute("UPDATE subscribers SET status = 'unsubscribed', how = 'one-click' "
                        "WHERE email = 'daeun@example.com'")
    before = roster(ed)
    with ed.client() as client:
        login(client)
        csrf = page_csrf(client)
        preview = client.post("/subscribers/import", data={"csrf": csrf},
                              files={"csv": ("구독자 명단.csv", IMPORT_CSV.encode(encoding), "text/csv")})
        assert preview.status_code == 200, preview.text
        assert roster(ed) == before  # a preview writes nothing
        counts = dict(re.findall(r'id="verdict-(\w+)">(\d+)<', preview.text))
        assert counts == {"new": "2", "exists": "2", "duplicate": "1", "invalid": "1"}
        verdicts = dict(re.findall(r'<tr data-line="(\d+)" data-verdict="(\w+)">', preview.text))
        assert verdicts == {"2": "new", "3": "new", "4": "duplicate", "5": "invalid", "6": "exists", "7": "exists"}
        assert "이메일" in preview.text and "같은 사람" not in preview.text  # the address column only
        assert "seojun@한국.kr" in preview.text and "line 2" in preview.text  # the duplicate names its twin

        carried = re.search(r'name="carried" value="([^"]+)"', preview.text)[1]
        unconfirmed = client.post("/subscribers/import/confirm", data={"csrf": csrf, "carried": carried,
                                                                       "name": "구독자 명단.csv"})
        assert unconfirmed.status_code == 400 and "확인란" in unconfirmed.text
        assert roster(ed) == before

        done = client.post("/subscribers/import/confirm", data={"csrf": csrf, "carried": carried,
                                                                "name": "구독자 명단.csv", "confirm": "yes"})
        assert done.status_code == 200
        results = re.search(r'id="import-results">.*?</section>', done.text, re.S)[0]
        assert dict(re.findall(r'data-count="(\w+)">(\d+)<', results)) == {"added": "2", "already": "1",
                                                                           "opted_out": "1"}
    assert roster(ed) == {**before, "minji.kim@example.com": ("active", "import"),
                          "seojun@한국.kr": ("active", "import")}


def test_a_file_without_an_address_column_is_refused_with_a_reason(mail_editor):
    ed = mail_editor()
    with ed.client() as client:
        login(client)
        answer = client.post("/subscribers/import", data={"csrf": page_csrf(client)},
                             files={"csv": ("names.csv", "이름,전화\r\n김민지,010\r\n".encode(), "text/csv")})
    assert answer.status_code == 400 and "names.csv" in answer.text and "no address column" in answer.text


def test_export_is_utf8_with_a_bom_and_imports_back_as_known(mail_editor):
    ed = mail_editor()
    add_addresses(ed.app.subscriptions, ["lee@한국.kr", "kim@example.com"], ed.clock(), how="cli")
    with ed.client() as client:
        login(client)
        exported = client.get("/subscribers/export.csv")
        assert exported.status_code == 200 and exported.headers["content-type"] == "text/csv; charset=utf-8"
        assert exported.headers["content-disposition"] == 'attachment; filename="subscribers-2024-07-19.csv"'
        assert exported.content.startswith(b"\xef\xbb\xbf")  # what Excel needs to read UTF-8 Hangul
        rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert rows[0] == ["email", "status", "created", "changed", "how"]
        assert sorted(r[0] for r in rows[1:]) == ["kim@example.com", "lee@한국.kr"]
        back = client.post("/subscribers/import", data={"csrf": page_csrf(client)},
                           files={"csv": ("export.csv", exported.content, "text/csv")})
        assert dict(re.findall(r'id="verdict-(\w+)">(\d+)<', back.text)) == {"new": "0", "exists": "2",
                                                                             "duplicate": "0", "invalid": "0"}


def test_the_shared_smtp_pool_is_built_once_on_the_event_loop_and_the_csv_is_read_off_it(mail_editor, monkeypatch):
    import threading

    import newsletter.web.subscribers as subscribers_page

    ed = mail_editor()
    built_on, previewed_on = [], []
    build_pool = ed.app.smtp_pool
    monkeypatch.setattr(ed.app, "smtp_pool", lambda *args, **kwargs: (built_on.append(threading.current_thread()),
                                                                       build_pool(*args, **kwargs))[1])
    preview = subscribers_page.preview_import
    monkeypatch.setattr(subscribers_page, "preview_import",
                        lambda *args: (previewed_on.append(threading.current_thread()), preview(*args))[1])
    loop_thread = ed.server._thread  # uvicorn's event loop runs in the server's thread
    with ed.client() as client:
        login(client)
        added = client.post("/subscribers/add", data={"csrf": page_csrf(client), "addresses": "minji@한국.kr",
                                                      "pending": "yes"})
        assert added.status_code == 200
        assert client.post("/subscribers/import", data={"csrf": page_csrf(client)},
                           files={"csv": ("구독자.csv", IMPORT_CSV.encode("utf-8"), "text/csv")}).status_code == 200
    assert built_on == [loop_thread]  # the first request built it, on the loop: one pool, never two
    assert len(previewed_on) == 1 and previewed_on[0] is not loop_thread  # the CSV never stalls the loop


def test_removing_keeps_the_page_it_came_from_even_with_a_fragment(mail_editor):
    ed = mail_editor()
    add_addresses(ed.app.subscriptions, ["kim@example.com"], ed.clock(), how="cli")
    with ed.client() as client:
        login(client)
        removed = client.post("/subscribers/remove", data={"csrf": page_csrf(client), "email": "kim@example.com",
                                                           "next": "/subscribers?q=김#list"})
        assert removed.status_code == 303
        assert removed.headers["location"] == "/subscribers?q=%EA%B9%80&notice=removed"
        assert "수신 거부로 바꿨습니다" in client.get(removed.headers["location"]).text
