"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1) with knobs for failures, and
the realistic Korean issue they send. test_mail_sink.py checks the sink itself."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from mjml import mjml2html

from newsletter.model import UNSUBSCRIBE_PLACEHOLDER, RenderedIssue

from support.net import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes  # exactly as it came over the wire, dot-unstuffed

    @property
    def message(self):
        return message_from_bytes(self.data, policy=policy.default)


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.sink._lock:
            self.sink.peers.add(tuple(session.peer))
        if self.sink.sender_reply:
            return self.sink.sender_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        action = self.sink._next_action(address, stage="rcpt")
        if action:
            return action
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        recipient = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        action = self.sink._next_action(recipient, stage="data")
        if action == "drop":
            server.transport.abort()  # the whole message came, and the connection dies before "250"
            return "421 gone"
        if action:
            return action
        self.sink._accept(Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 queued as sink"


class SmtpSink:
    """aiosmtpd in a thread on 127.0.0.1. `fail(address, *actions)` scripts the next attempts
    for a recipient, one action per attempt, then it is accepted:
        "451 ..." / "550 ..." and other replies: answered to RCPT TO
        "drop": the connection is cut after the message data, before any reply
        "data:554 ...": answered after the message data
    """

    def __init__(self, **smtp_kwargs):
        self.port = free_port()
        self.received: list[Received] = []
        self.attempts: dict[str, int] = defaultdict(int)
        self._script: dict[str, deque[str]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.peers: set[tuple] = set()  # every client connection that began a transaction
        self.sender_reply = ""  # set to e.g. "550 ..." to refuse every MAIL FROM
        self.on_accept = None  # called with each Received, in the server's thread
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     server_hostname="sink.test", **smtp_kwargs)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def fail(self, address: str, *actions: str) -> None:
        with self._lock:
            self._script[address.lower()].extend(actions)

    def _next_action(self, address: str, stage: str) -> str:
        with self._lock:
            script = self._script.get(address.lower())
            if stage == "rcpt":
                self.attempts[address.lower()] += 1
            if not script:
                return ""
            action = script[0]
            at_data = action == "drop" or action.startswith("data:")
            if (stage == "data") != at_data:
                return ""
            script.popleft()
            return action.removeprefix("data:")

    def _accept(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)
        if self.on_accept:
            self.on_accept(received)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.received)

    @property
    def connections(self) -> int:
        """How many client connections have begun a mail transaction."""
        with self._lock:
            return len(self.peers)

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if address.lower() in (a.lower() for a in r.rcpt_tos)]

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


# --- a realistic issue: Korean, ~20 KB of HTML on long lines, as mjml-python emits it ----------

_ITEM = """<mj-section background-color="#ffffff"><mj-column>
<mj-text font-size="17px" font-weight="700"><a href="https://arxiv.org/abs/2407.{n:05d}">Scaling Laws with Vocabulary: Larger Models Deserve Larger Vocabularies ({n})</a></mj-text>
<mj-text color="#59636e" font-size="13px">(Chaofan Tao, Qian Liu, Longxu Dou 외 5명) · 논문</mj-text>
<mj-text>Research on scaling large language models (LLMs) has primarily focused on model parameters and training data size, overlooking the role of vocabulary size.</mj-text>
<mj-text><div style="background:#f1f5fe;border-left:3px solid #0b57d0;padding:10px 14px">연산량에 따라 최적의 Vocabulary 수에 대한 Scaling Law. 투입하는 연산량이 늘어날수록 더 큰 어휘 사전이 필요하다는 결론입니다.</div></mj-text>
<mj-text color="#0b57d0" font-size="13px">#scaling-law #tokenizer #한국어</mj-text>
</mj-column></mj-section>"""

SUBJECT = "AI 뉴스 #12 — 2024년 7월 19일 (금): 어휘 크기의 스케일링 법칙"


def korean_issue(items: int = 8, issue_date: date = date(2024, 7, 19)) -> RenderedIssue:
    """A RenderedIssue like the renderer's: compiled by mjml-python (long lines kept), with the
    unsubscribe placeholder in the HTML footer and in the text part."""
    body = "".join(_ITEM.format(n=13623 + n) for n in range(items))
    html = mjml2html(f"""<mjml lang="ko"><mj-head><mj-title>{SUBJECT}</mj-title><mj-preview>어휘 크기의 스케일링 법칙 외 {items - 1}건</mj-preview>
<mj-attributes><mj-all font-family="'Apple SD Gothic Neo','Malgun Gothic','Noto Sans KR',sans-serif"/></mj-attributes></mj-head>
<mj-body background-color="#f3f4f6">{body}<mj-section><mj-column><mj-text align="center" font-size="12px">AI 뉴스를 구독하셔서 받으신 메일입니다.<br><a href="https://news.example.com/issues/2024-07-19">웹에서 보기</a> · <a href="{UNSUBSCRIBE_PLACEHOLDER}">수신 거부</a></mj-text></mj-column></mj-section></mj-body></mjml>""")
    text = "\n\n".join(
        f"Scaling Laws with Vocabulary ({13623 + n})\nhttps://arxiv.org/abs/2407.{13623 + n:05d}\n"
        "연산량에 따라 최적의 Vocabulary 수에 대한 Scaling Law.\n#scaling-law #tokenizer" for n in range(items))
    text = f"AI 뉴스 #12 — 2024년 7월 19일 (금)\n\n{text}\n\n수신 거부: {UNSUBSCRIBE_PLACEHOLDER}\n"
    return RenderedIssue(issue_date=issue_date, number=12, subject=SUBJECT, preheader="어휘 크기의 스케일링 법칙",
                         html=html, text=text)


def wait_for_mail(sink: SmtpSink, count: int, timeout: float = 15.0) -> None:
    """Mail is accepted by the sink in its own thread: wait until `count` messages came."""
    deadline = time.monotonic() + timeout
    while sink.count < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} message(s) in the sink, got {sink.count}")
        time.sleep(0.02)
