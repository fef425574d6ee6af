"""Checks on rendered email HTML that a composer page, the CLI and the tests share."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

# Gmail hides everything after ~102 KB of HTML behind "[Message clipped]", the unsubscribe
# footer included; warning a little earlier leaves room for the per-recipient URL.
GMAIL_CLIP_BYTES = 102 * 1024
SIZE_WARN_BYTES = 90 * 1024


@dataclass(frozen=True)
class SizeReport:
    bytes: int
    warn_bytes: int = SIZE_WARN_BYTES
    clip_bytes: int = GMAIL_CLIP_BYTES

    @property
    def kb(self) -> float:
        return round(self.bytes / 1024, 1)

    @property
    def status(self) -> str:
        """"ok", "warn" (above 90 KB) or "clipped" (Gmail will clip it)."""
        if self.bytes >= self.clip_bytes:
            return "clipped"
        return "warn" if self.bytes > self.warn_bytes else "ok"

    def as_json(self) -> dict:
        return {"bytes": self.bytes, "kb": self.kb, "warn_bytes": self.warn_bytes,
                "clip_bytes": self.clip_bytes, "status": self.status}


def size_report(html: str) -> SizeReport:
    """The size of the HTML as it travels (UTF-8 bytes) against Gmail's clipping limit."""
    return SizeReport(len(html.encode("utf-8")))


_LINK_ATTRIBUTES = {"href", "src", "action", "background", "poster", "srcset"}


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "iframe", "object", "embed", "form"):
            self.problems.append(f"<{tag}> element")
        if tag == "img" and not (values.get("alt") or "").strip():
            self.problems.append(f"<img src={values.get('src')!r}> without alt text")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> event handler")
            if name in _LINK_ATTRIBUTES:
                url = (value or "").strip()
                scheme = urlsplit(url).scheme.lower()
                if scheme == "mailto":
                    continue
                if scheme not in ("http", "https") or not urlsplit(url).hostname:
                    self.problems.append(f"<{tag} {name}={url!r}> is not an absolute http(s) URL")


def email_problems(html: str) -> list[str]:
    """What would make the email unsafe or broken in a mail client: scripts, event
    handlers, relative or non-http links, images without alt text. [] when fine."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.problems
