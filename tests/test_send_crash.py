"""Crash safety: `newsletter send` killed with SIGKILL mid-send, then run again, finishes the
issue; every recipient has a message and the duplicates stay within the documented bound
(the messages in flight at the kill: at most one per pooled connection, mail.pool_size)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections import Counter
from datetime import datetime, timezone

from newsletter.model import IssueStatus
from newsletter.store import deliveries, issues
from support.apps import add_active, app_for, ready_issue
from support.cli import spawn
from support.smtp import SmtpSink

POOL_SIZE = 4
SUBSCRIBERS = 500


def send_process(tmp_path, sink: SmtpSink) -> subprocess.Popen:
    # --force-late: the issue is dated today and the test must not depend on the hour it runs
    return spawn(tmp_path, "send", "--force-late", "--json", profile="mail", sink=sink, text=False)


def test_a_send_killed_midway_and_run_again_mails_everyone_with_duplicates_within_the_bound(tmp_path):
    now = datetime.now(timezone.utc)
    with SmtpSink() as sink:
        app = app_for(tmp_path, "mail", sink, mail={"pool_size": POOL_SIZE, "rate_per_second": 2000.0})
        addresses = [f"reader{n:03d}@example.com" for n in range(SUBSCRIBERS)]
        add_active(app, addresses, now)
        issue = ready_issue(app.conn, now.astimezone(app.settings.newsletter.zone).date(), now)

        first = send_process(tmp_path, sink)
        killed = threading.Event()

        def kill_at_the_200th(received):
            # The worst moment: the server holds the whole 200th message, the sender has not
            # heard "250" yet, and the other connections are mid-message.
            if sink.count >= 200 and not killed.is_set():
                os.kill(first.pid, signal.SIGKILL)
                killed.set()

        sink.on_accept = kill_at_the_200th
        first.wait(timeout=60)
        assert killed.is_set() and first.returncode == -signal.SIGKILL, first.stderr.read().decode()
        sink.on_accept = None
        at_kill = sink.count
        assert 200 <= at_kill < SUBSCRIBERS  # really killed in the middle
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.SENDING
        marked_sent_at_kill = deliveries.counts(app.conn, issue.id).sent
        assert at_kill - POOL_SIZE <= marked_sent_at_kill < at_kill  # the 200th was never acknowledged

        second = send_process(tmp_path, sink)
        out, errors = second.communicate(timeout=120)
        assert second.returncode == 0, errors.decode()

        per_recipient = Counter(r.rcpt_tos[0] for r in sink.received)
        assert set(per_recipient) == set(addresses)  # everyone has at least one message
        duplicates = sum(per_recipient.values()) - SUBSCRIBERS
        assert 1 <= duplicates <= POOL_SIZE, per_recipient.most_common(POOL_SIZE + 1)
        for address, copies in per_recipient.items():  # a duplicate is the same message again
            if copies > 1:
                assert len({r.message["Message-ID"] for r in sink.to(address)}) == 1
        final = deliveries.counts(app.conn, issue.id)
        assert (final.sent, final.failed, final.pending) == (SUBSCRIBERS, 0, 0)
        assert issues.get_issue(app.conn, issue.id).status is IssueStatus.SENT
        app.close()
