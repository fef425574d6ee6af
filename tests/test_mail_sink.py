"""The SMTP sink the mail tests send to (support.smtp: aiosmtpd on 127.0.0.1, with knobs for
failures) and the realistic Korean issue they send: both behave as the design says."""

from __future__ import annotations

import smtplib

import pytest

from newsletter.model import UNSUBSCRIBE_PLACEHOLDER
from support.smtp import SmtpSink, korean_issue


# --- the sink's own behaviour -------------------------------------------------------------------

def test_korean_issue_has_the_long_lines_the_design_warns_about():
    issue = korean_issue()
    assert 15_000 < len(issue.html.encode()) < 40_000
    assert max(len(line) for line in issue.html.splitlines()) > 998  # too long for one SMTP line
    assert UNSUBSCRIBE_PLACEHOLDER in issue.html and UNSUBSCRIBE_PLACEHOLDER in issue.text


def test_sink_refuses_bare_lf_long_lines_as_the_design_says():
    # The trap itself: bytes with bare LF reach the server as one enormous line.
    with SmtpSink() as sink, smtplib.SMTP("127.0.0.1", sink.port) as client:
        data = f"Subject: x\n\n{korean_issue().html}".encode()
        try:
            client.sendmail("a@example.com", ["b@example.com"], data)
            raised = None
        except smtplib.SMTPResponseException as e:
            raised = e
        assert raised is not None and raised.smtp_code == 500 and b"Line too long" in raised.smtp_error
        assert sink.count == 0


def test_sink_scripts_replies_per_recipient_then_accepts():
    with SmtpSink() as sink, smtplib.SMTP("127.0.0.1", sink.port) as client:
        sink.fail("b@example.com", "451 4.7.1 later")
        message = b"Subject: x\r\n\r\nhello\r\n"
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("a@example.com", ["b@example.com"], message)
        assert refused.value.recipients["b@example.com"][0] == 451
        client.sendmail("a@example.com", ["b@example.com"], message)
        assert sink.count == 1 and sink.attempts["b@example.com"] == 2
