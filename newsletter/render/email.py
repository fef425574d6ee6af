"""Issue -> RenderedIssue: Jinja2 builds MJML from templates/email/, mjml-python compiles it,
and the text/plain part comes from the same view through its own template."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import jinja2
from mjml import mjml2html

from ..config import Settings
from ..errors import RenderError
from ..model import UNSUBSCRIBE_PLACEHOLDER, Issue, Item, RenderedIssue
from .context import IssueView, issue_view

HTML_TEMPLATE = "issue.mjml.j2"
TEXT_TEMPLATE = "issue.txt.j2"

# Indentation and blank lines between tags. A newline is kept wherever there was one, so
# no two words ever run together (outside <pre>, which the email never has, a newline is a
# space); mjml-python otherwise emits very long lines, which mail transports dislike.
_BLANKS = re.compile(r"[ \t]*\n[ \t\n]*")


class EmailRenderer:
    """The email templates, loaded once (jinja2 caches compiled templates)."""

    def __init__(self, template_dir: str | Path):
        self.template_dir = Path(template_dir)
        loader = jinja2.FileSystemLoader(str(self.template_dir))
        common = dict(loader=loader, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
        self._html = jinja2.Environment(autoescape=True, **common)
        self._text = jinja2.Environment(autoescape=False, keep_trailing_newline=True, **common)

    def mjml(self, view: IssueView) -> str:
        """The MJML source of the email (what mjml-python compiles)."""
        return self._template(self._html, HTML_TEMPLATE, view)

    def html(self, view: IssueView) -> str:
        source = self.mjml(view)
        try:
            compiled = mjml2html(source, disable_comments=True, fonts={})
        except ValueError as e:
            raise RenderError(f"the MJML from {HTML_TEMPLATE} does not compile: {e}",
                              issue_date=view.issue_date) from e
        return _BLANKS.sub("\n", compiled).strip() + "\n"

    def text(self, view: IssueView) -> str:
        text = self._template(self._text, TEXT_TEMPLATE, view)
        lines = [line.rstrip() for line in text.splitlines()]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"

    def render(self, issue: Issue, items: Sequence[Item], settings: Settings, *,
               unsubscribe_url: str = UNSUBSCRIBE_PLACEHOLDER) -> RenderedIssue:
        """One render per issue; `unsubscribe_url` stays the placeholder that delivery
        replaces per recipient."""
        view = issue_view(issue, items, settings, unsubscribe_url=unsubscribe_url)
        return RenderedIssue(issue_date=issue.issue_date, number=issue.number, subject=view.subject,
                             preheader=view.preheader, html=self.html(view), text=self.text(view))

    def _template(self, env: jinja2.Environment, name: str, view: IssueView) -> str:
        try:
            return env.get_template(name).render(v=view)
        except jinja2.TemplateError as e:
            raise RenderError(f"template {_where(e, name, self.template_dir)}: {e}",
                              issue_date=view.issue_date) from e


def _where(error: jinja2.TemplateError, name: str, template_dir: Path) -> str:
    """file:line of a template error. Syntax errors say it themselves; for errors while
    rendering (an undefined field) jinja2 puts the template's frames in the traceback."""
    if isinstance(error, jinja2.TemplateSyntaxError):
        return f"{error.filename or name}:{error.lineno}"
    place = f"{template_dir / name}"
    trace = error.__traceback__
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            place = f"{filename}:{trace.tb_lineno}"
        trace = trace.tb_next
    return place


def render_issue(issue: Issue, items: Sequence[Item], settings: Settings,
                 renderer: EmailRenderer) -> RenderedIssue:
    """The issue's subject, preheader, HTML and text. `items` are the issue's items in any
    order; they are grouped by section and kept in the curator's order within each."""
    return renderer.render(issue, items, settings)
