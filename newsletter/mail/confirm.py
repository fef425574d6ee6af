"""The double opt-in mail: templates/email/confirm.mjml.j2 through Jinja2 and mjml-python.

It echoes nothing the visitor typed except the address being confirmed (escaped), so a
stranger cannot use the subscribe form to mail arbitrary words to someone under our name.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import jinja2
from mjml import mjml2html

from ..config import NewsletterSettings
from ..errors import MailError
from .message import Envelope, build_message, message_id_domain
from .tokens import CONFIRM_TOKEN_DAYS

CONFIRM_TEMPLATE = "confirm.mjml.j2"

_TEXT = """\
{title} 구독 확인

{email} 주소로 {title} 구독 신청이 들어왔습니다.
직접 신청하셨다면 아래 링크를 열어 구독을 확인해 주세요.

{confirm_url}

이 링크는 {days}일 동안 유효합니다. 신청하지 않으셨다면 이 메일을 무시하세요.
확인하지 않으면 더 이상 메일을 보내지 않습니다.

--
{title} · {site_url}
{postal_address}
"""


class ConfirmMail:
    """Builds confirmation messages; the template is loaded once."""

    def __init__(self, newsletter: NewsletterSettings, template_dir: str | Path):
        self.newsletter = newsletter
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template_dir)), autoescape=True,
                                      undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)

    def html(self, *, email: str, confirm_url: str) -> str:
        n = self.newsletter
        try:
            source = self.env.get_template(CONFIRM_TEMPLATE).render(
                title=n.title, email=email, confirm_url=confirm_url, days=CONFIRM_TOKEN_DAYS,
                site_url=n.site_url, postal_address=n.postal_address)
            return mjml2html(source, disable_comments=True, fonts={})
        except (jinja2.TemplateError, ValueError) as e:
            raise MailError(f"the confirmation template {CONFIRM_TEMPLATE} does not render: {e}") from e

    def text(self, *, email: str, confirm_url: str) -> str:
        n = self.newsletter
        return _TEXT.format(title=n.title, email=email, confirm_url=confirm_url, days=CONFIRM_TOKEN_DAYS,
                            site_url=n.site_url, postal_address=n.postal_address)

    def build(self, *, email: str, wire_address: str, confirm_url: str, now: datetime) -> EmailMessage:
        """`email` is shown to the reader; `wire_address` (its ASCII form) is where it goes."""
        n = self.newsletter
        return build_message(
            envelope=Envelope(n.sender_name, n.sender_email, reply_to=n.reply_to), recipient=wire_address,
            subject=f"{n.title} 구독 확인", text=self.text(email=email, confirm_url=confirm_url),
            html=self.html(email=email, confirm_url=confirm_url), date=now.astimezone(n.zone),
            message_id=make_msgid("confirm", domain=message_id_domain(n.sender_email)))
