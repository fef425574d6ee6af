"""The SMTP pool against a real aiosmtpd: the URL forms, reused connections, STARTTLS, implicit
TLS and login, and the three kinds of outcome the delivery loop acts on."""

from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest

from aiosmtpd.smtp import AuthResult, LoginPassword

from newsletter.errors import ConfigError, MailError
from newsletter.mail.smtp import PermanentFailure, SmtpPool, TransientFailure, parse_smtp_url
from support.browser import missing_tool
from support.net import free_port
from support.smtp import SmtpSink

MESSAGE = "Subject: =?utf-8?b?7JWI64WV?=\r\nFrom: news@example.com\r\nTo: {to}\r\n\r\n안녕하세요\r\n".format


def data(to: str) -> bytes:
    return MESSAGE(to=to).encode("utf-8")


def test_smtp_urls_name_security_port_and_credentials():
    plain = parse_smtp_url("smtp://relay.internal")
    assert (plain.host, plain.port, plain.security, plain.username) == ("relay.internal", 25, "plain", "")
    starttls = parse_smtp_url("smtp+starttls://user%40example.com:p%40ss%3Aword@smtp.example.com")
    assert (starttls.port, starttls.security) == (587, "starttls")
    assert (starttls.username, starttls.password) == ("user@example.com", "p@ss:word")
    implicit = parse_smtp_url("smtps://u:p@smtp.example.com:2465?timeout=5&cafile=/etc/ca.pem&helo=news.example.com")
    assert (implicit.port, implicit.security, implicit.timeout) == (2465, "tls", 5.0)
    assert (implicit.cafile, implicit.helo) == ("/etc/ca.pem", "news.example.com")
    assert "p@ss" not in repr(starttls)


@pytest.mark.parametrize("url, message", [
    ("", "not set"), ("http://smtp.example.com", "scheme"), ("smtp://", "no host"),
    ("smtp://h:port", "port"), ("smtp://h?tls=yes", "unknown parameter"), ("smtp://h?timeout=soon", "timeout"),
])
def test_bad_smtp_urls_are_config_errors_without_the_password(url, message):
    with pytest.raises(ConfigError) as error:
        parse_smtp_url(url.replace("smtp://h", "smtp://user:hunter2@h"))
    assert message in str(error.value) and "hunter2" not in str(error.value)
    assert error.value.field == "NEWSLETTER_SMTP_URL"


def test_pool_reuses_its_connections():
    with SmtpSink() as sink, SmtpPool(parse_smtp_url(sink.url), size=2, rate_per_second=10_000) as pool:
        for n in range(30):
            reply = pool.send("news@example.com", f"reader{n}@example.com", data(f"reader{n}@example.com"))
            assert reply.startswith("250")
        assert sink.count == 30
        assert sink.connections == 1  # one thread: one connection, reused 30 times


def test_outcomes_are_sorted_into_transient_permanent_and_dropped():
    with SmtpSink() as sink, SmtpPool(parse_smtp_url(sink.url), size=1, rate_per_second=10_000) as pool:
        sink.fail("greylisted@example.com", "451 4.7.1 greylisted, come back later")
        sink.fail("gone@example.com", "550 5.1.1 no such user 사용자 없음")
        sink.fail("dropped@example.com", "drop")
        sink.fail("spammy@example.com", "data:554 5.7.1 content rejected")
        with pytest.raises(TransientFailure, match="451 4.7.1 greylisted"):
            pool.send("news@example.com", "greylisted@example.com", data("greylisted@example.com"))
        with pytest.raises(PermanentFailure, match="550 5.1.1 no such user 사용자 없음"):
            pool.send("news@example.com", "gone@example.com", data("gone@example.com"))
        with pytest.raises(TransientFailure, match="connection dropped"):
            pool.send("news@example.com", "dropped@example.com", data("dropped@example.com"))
        with pytest.raises(PermanentFailure, match="554 5.7.1 content rejected"):
            pool.send("news@example.com", "spammy@example.com", data("spammy@example.com"))
        # after all that, the pool still delivers (a fresh connection replaced the dropped one)
        for address in ("greylisted@example.com", "dropped@example.com", "fine@example.com"):
            assert pool.send("news@example.com", address, data(address)).startswith("250")
        assert sorted(r.rcpt_tos[0] for r in sink.received) == [
            "dropped@example.com", "fine@example.com", "greylisted@example.com"]
        assert sink.connections == 2


def test_a_refused_sender_or_an_unreachable_server_stops_everything():
    with SmtpSink() as sink, SmtpPool(parse_smtp_url(sink.url), size=1, rate_per_second=10_000) as pool:
        sink.sender_reply = "553 5.7.1 sender not allowed"
        with pytest.raises(MailError, match="refused our sender news@example.com: 553"):
            pool.send("news@example.com", "a@example.com", data("a@example.com"))
    closed_port = free_port()
    with SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{closed_port}?timeout=2"), size=1, rate_per_second=100,
                  connect_attempts=2, retry_base_seconds=0.01) as pool:
        with pytest.raises(MailError, match=f"cannot connect to 127.0.0.1:{closed_port}.*after 2 attempts"):
            pool.send("news@example.com", "a@example.com", data("a@example.com"))


@pytest.fixture
def certificate(tmp_path):
    if not shutil.which("openssl"):
        missing_tool("openssl is needed to make a throwaway certificate (scripts/test.sh installs it)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return cert, server


def accept_only(login: bytes, password: bytes):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (login, password)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535
    return authenticator


def test_starttls_with_login(certificate):
    cert, server_context = certificate
    with SmtpSink(tls_context=server_context, require_starttls=True, auth_required=True,
                  authenticator=accept_only(b"news@example.com", b"s3cret p@ss:/")) as sink:
        url = f"smtp+starttls://news%40example.com:s3cret%20p%40ss%3A%2F@127.0.0.1:{sink.port}?cafile={cert}"
        with SmtpPool(parse_smtp_url(url), size=1, rate_per_second=100) as pool:
            assert pool.send("news@example.com", "a@example.com", data("a@example.com")).startswith("250")
        assert sink.count == 1
        wrong = url.replace("s3cret", "guess")
        with SmtpPool(parse_smtp_url(wrong), size=1, rate_per_second=100) as pool:
            with pytest.raises(MailError, match="refused the login for 'news@example.com'"):
                pool.send("news@example.com", "a@example.com", data("a@example.com"))
        korean = url.replace("s3cret", "%EB%B9%84%EB%B0%80")  # 비밀: smtplib cannot send it
        with SmtpPool(parse_smtp_url(korean), size=1, rate_per_second=100) as pool:
            with pytest.raises(MailError, match="must be ASCII"):
                pool.send("news@example.com", "a@example.com", data("a@example.com"))
        untrusted = url.split("?")[0]  # the system CAs do not know our throwaway certificate
        with SmtpPool(parse_smtp_url(untrusted), size=1, rate_per_second=100) as pool:
            with pytest.raises(MailError, match="TLS with 127.0.0.1"):
                pool.send("news@example.com", "a@example.com", data("a@example.com"))
        assert sink.count == 1


def test_starttls_required_by_the_url_is_never_skipped():
    with SmtpSink() as sink:  # offers no STARTTLS
        url = f"smtp+starttls://127.0.0.1:{sink.port}"
        with SmtpPool(parse_smtp_url(url), size=1, rate_per_second=100, connect_attempts=1) as pool:
            with pytest.raises(MailError, match="does not offer STARTTLS"):
                pool.send("news@example.com", "a@example.com", data("a@example.com"))
        assert sink.count == 0


def test_implicit_tls(certificate):
    cert, server_context = certificate
    with SmtpSink(ssl_context=server_context) as sink:
        with SmtpPool(parse_smtp_url(f"smtps://127.0.0.1:{sink.port}?cafile={cert}"), size=1,
                      rate_per_second=100) as pool:
            assert pool.send("news@example.com", "a@example.com", data("a@example.com")).startswith("250")
        assert sink.count == 1


def test_a_missing_cafile_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read cafile"):
        SmtpPool(parse_smtp_url(f"smtps://127.0.0.1:1?cafile={tmp_path / 'missing.pem'}"), size=1, rate_per_second=1)


def test_the_rate_is_a_global_spacing_between_messages():
    from newsletter.mail.smtp import RateLimiter

    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))

    limiter = RateLimiter(4.0, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()  # three callers at the same instant: 0, 0.25 and 0.5 s later
    assert waits == [0.25, 0.5]
    now[0] = 101.0  # idle for a while: no burst is saved up
    limiter.wait()
    limiter.wait()
    assert waits == [0.25, 0.5, 0.25]
