"""Issue -> (subject, preheader, html, text): Jinja2 -> MJML -> mjml-python, templates from
templates/email/. Pure functions of the issue, its items and the settings; nothing here
touches the database or the network.

    render_issue(issue, items, settings, renderer) -> RenderedIssue   the one render per issue
    size_report(html) -> SizeReport                          bytes against Gmail's clipping
    email_problems(html) -> [str]                            scripts, relative links, alt-less images
"""

from .checks import (
                      GMAIL_CLIP_BYTES,
                      SIZE_WARN_BYTES,
                      SizeReport,
                      email_problems,
                      size_report,
)
from .context import (
                      IssueView,
                      ItemView,
                      SectionView,
                      authors_line,
                      byline,
                      issue_view,
                      korean_date,
                      local_date,
                      one_line,
                      ordered,
                      section_of,
                      source_name,
                      subject_line,
                      web_url,
)
from .email import EmailRenderer, render_issue

__all__ = [
    "EmailRenderer", "GMAIL_CLIP_BYTES", "IssueView", "ItemView", "SIZE_WARN_BYTES",
    "SectionView", "SizeReport", "email_problems", "issue_view", "korean_date",
    "local_date", "one_line", "ordered", "render_issue", "section_of", "size_report", "subject_line",
    "web_url", "authors_line", "byline", "source_name",
]
