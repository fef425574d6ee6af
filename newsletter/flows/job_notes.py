"""Short mails to the curator (newsletter.contact) from the scheduled jobs, in Korean and English:
an issue that could not go out at its time, and sources that need a look."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from html import escape
from typing import Sequence

from ..config import Settings
from ..mail.message import Envelope, build_message, message_id_domain
from ..model import Issue
from ..render import korean_date
from ..store.alerts import StoredAlert
from ..store.subscribers import normalise_address

ALERT_KINDS_KO = {"failing": "하루 넘게 가져오지 못함", "quiet": "평소와 달리 새 항목이 없음"}


def curator_message(settings: Settings, subject: str, text: str, now: datetime) -> EmailMessage:
    """A one-off message to newsletter.contact from the newsletter's sender. Raises
    SubscriberError if the contact is not an address, MailError if a header cannot be built."""
    n = settings.newsletter
    recipient = normalise_address(n.contact).ascii
    paragraphs = "".join(f"<p>{escape(block).replace(chr(10), '<br>')}</p>" for block in text.strip().split("\n\n"))
    html = (f'<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>{escape(subject)}</title></head>'
            f'<body style="font-family:\'Apple SD Gothic Neo\',\'Malgun Gothic\',\'Noto Sans KR\',sans-serif;'
            f'word-break:keep-all">{paragraphs}</body></html>')
    return build_message(envelope=Envelope(n.sender_name, n.sender_email, reply_to=n.reply_to), recipient=recipient,
                         subject=subject, text=text, html=html, date=now.astimezone(n.zone),
                         message_id=make_msgid("curator", domain=message_id_domain(n.sender_email)))


def send_deadline(settings: Settings, day: date) -> datetime:
    """The latest a send of the `day` issue may start (as newsletter.flows.send.deadline)."""
    midnight = datetime.combine(day, time(0), tzinfo=settings.newsletter.zone)
    return midnight + timedelta(hours=settings.mail.deadline_hours)


def not_ready_note(settings: Settings, day: date, issue: Issue | None, now: datetime) -> EmailMessage:
    """'The issue of `day` did not go out at its time: it is not ready.'"""
    n = settings.newsletter
    local_now = now.astimezone(n.zone)
    deadline = send_deadline(settings, day).astimezone(n.zone)
    when = f"{local_now:%H:%M}"
    if issue is None:
        why_ko, why_en = "이 날짜의 호가 아직 만들어지지 않았습니다", "no issue has been built for that date"
    else:
        why_ko = f"#{issue.number} 호가 아직 초안(draft) 상태입니다"
        why_en = f"issue #{issue.number} is still a draft"
    subject = f"[{n.title}] {korean_date(day, weekday=False)} 호 발송 안 됨: 준비되지 않음 (issue not sent: not ready)"
    text = f"""\
{n.title} {korean_date(day)} 호를 예약된 시각({when})에 보내지 않았습니다.
{why_ko}.

편집기의 '다음 호'(/issue)에서 마무리하고 '발송 준비'로 표시한 뒤 `newsletter send` 로 보내 주세요.
마감은 {deadline:%Y-%m-%d %H:%M}입니다. 그 뒤에는 --force-late 없이는 보내지 않습니다.

The {day.isoformat()} issue of {n.title} was not sent at its scheduled time ({when} {n.timezone}):
{why_en}. Finish it in the editor (/issue), mark it ready and run `newsletter send`.
Its deadline is {deadline:%Y-%m-%d %H:%M} {n.timezone}; after that a send needs --force-late.
"""
    return curator_message(settings, subject, text, now)


def alerts_note(settings: Settings, alerts: Sequence[StoredAlert], now: datetime) -> EmailMessage:
    """'These sources need a look', one line each (the monitor's words, in English)."""
    n = settings.newsletter
    names = ", ".join(sorted({alert.source_id for alert in alerts}))
    subject = f"[{n.title}] 소스 점검 필요: {names} (source alert)"
    lines_ko = "\n".join(f"- {alert.source_id}: {ALERT_KINDS_KO.get(alert.kind, alert.kind)}" for alert in alerts)
    lines_en = "\n".join(f"- {alert.message}" for alert in alerts)
    text = f"""\
다음 소스를 확인해 주세요. 같은 문제로는 다시 메일을 보내지 않습니다; 현재 상태는
`newsletter runs` 또는 편집기의 작업 기록(/runs) 페이지에서 볼 수 있습니다.

{lines_ko}

These sources need a look (you will not be mailed again about the same problem; see
`newsletter runs` or the editor's /runs page):

{lines_en}
"""
    return curator_message(settings, subject, text, now)
