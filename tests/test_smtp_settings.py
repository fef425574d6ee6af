"""NEWSLETTER_SMTP_URL is checked when the settings load, and the public subscriber links
(confirm, RFC 8058 one-click unsubscribe) work whatever the mail server's settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from newsletter.config import load_settings
from newsletter.errors import ConfigError
from newsletter.model import SubscriberStatus
from newsletter.store import subscribers
from newsletter.flows.subscribe import LinkOutcome, SubscribeOutcome
from support.apps import SECRET, add_active, app_for
from support.config import write_config

MORNING = datetime(2024, 7, 18, 23, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("url, expected, secret", [
    ("smtp+tls://kim:비밀hunter2@smtp.example.com", "scheme must be smtp, smtp+starttls or smtps, got 'smtp+tls'",
     "hunter2"),
    ("smtps://kim:s3cr/et@smtp.example.com", "the port is not a number", "s3cr"),  # '/' not percent-encoded
    ("smtp://kim:pw-노출금지@smtp.example.com:25?tls=yes", "unknown parameter(s): tls", "노출금지"),
    ("smtp://kim:pw-노출금지@:25", "no host", "노출금지"),
])
def test_a_mistyped_smtp_url_fails_at_load_naming_the_variable_and_never_the_password(tmp_path, url, expected,
                                                                                       secret):
    write_config(tmp_path / "sources.yaml", "mail")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "sources.yaml", {"NEWSLETTER_SECRET": SECRET, "NEWSLETTER_SMTP_URL": url})
    message = str(caught.value)
    assert "NEWSLETTER_SMTP_URL" in message and expected in message
    assert secret not in message and secret not in repr(caught.value.__cause__ or "")


def test_a_good_smtp_url_or_none_loads(tmp_path):
    write_config(tmp_path / "sources.yaml", "mail")
    url = "smtp+starttls://user%40example.com:p%40ss@smtp.example.com"
    assert load_settings(tmp_path / "sources.yaml", {"NEWSLETTER_SMTP_URL": url}).smtp_url == url
    assert load_settings(tmp_path / "sources.yaml", {}).smtp_url == ""


def one_click(app, address: str) -> LinkOutcome:
    subs = app.subscriptions
    token = subs.unsubscribe_url(subscribers.get_by_email(app.conn, address)).rsplit("/", 1)[1]
    return subs.unsubscribe(token, MORNING + timedelta(hours=1), how="one-click").outcome


def test_one_click_unsubscribe_works_with_no_smtp_url_at_all(tmp_path):
    app = app_for(tmp_path, "mail", None, clock=lambda: MORNING)  # NEWSLETTER_SMTP_URL unset
    add_active(app, ["kim@뉴스레터.한국"], MORNING)
    assert one_click(app, "kim@뉴스레터.한국") is LinkOutcome.DONE
    assert subscribers.get_by_email(app.conn, "kim@뉴스레터.한국").status is SubscriberStatus.UNSUBSCRIBED
    app.close()


def test_an_unusable_smtp_url_never_blocks_unsubscribing_and_only_fails_the_mail_it_was_for(tmp_path):
    # Settings made without load_settings (as a test or an embedding program might) can still
    # hold a bad URL: the public flows must not need the mailer to exist.
    app = app_for(tmp_path, "mail", None, clock=lambda: MORNING)
    app.settings = replace(app.settings, smtp_url="smtp+tls://kim:hunter2@smtp.example.com")
    add_active(app, ["lee@example.com"], MORNING)
    assert one_click(app, "lee@example.com") is LinkOutcome.DONE
    result = app.subscriptions.subscribe("new-reader@뉴스레터.한국", "198.51.100.7", "", MORNING)
    assert result.outcome is SubscribeOutcome.MAIL_FAILED and "NEWSLETTER_SMTP_URL" in result.detail
    assert "hunter2" not in result.detail
    app.close()
