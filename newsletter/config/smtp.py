"""NEWSLETTER_SMTP_URL -> SmtpConfig."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import ConfigError

# --- NEWSLETTER_SMTP_URL: parsed here so a mistyped one stops the program at load (mail.smtp
# documents the forms and uses the parsed SmtpConfig) ---------------------------------------
_SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
_SMTP_ENCODING_HINT = " (a user name or password holding '@', ':' or '/' must be percent-encoded)"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # "plain" | "starttls" | "tls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    cafile: str = ""
    helo: str = ""

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """NEWSLETTER_SMTP_URL -> SmtpConfig; a ConfigError names what is wrong (never the password)."""
    def bad(message: str) -> ConfigError:
        return ConfigError(message, field="NEWSLETTER_SMTP_URL")

    if not url:
        raise bad("NEWSLETTER_SMTP_URL is not set (e.g. smtp+starttls://user:pass@smtp.example.com)")
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _SMTP_PORTS:
            raise bad(f"scheme must be smtp, smtp+starttls or smtps, got {scheme!r}")
        port = parts.port or _SMTP_PORTS[scheme]
    except ValueError:  # its message may quote the URL, password and all: not chained
        raise bad("the port is not a number, or the host is malformed" + _SMTP_ENCODING_HINT) from None
    if not parts.hostname:
        raise bad("no host" + _SMTP_ENCODING_HINT)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"timeout", "cafile", "helo"}
    if unknown:
        raise bad(f"unknown parameter(s): {', '.join(sorted(unknown))} (allowed: timeout, cafile, helo)")
    try:
        timeout = float(query.get("timeout", 30))
    except ValueError as e:
        raise bad("timeout must be a number of seconds") from e
    return SmtpConfig(
        host=parts.hostname, port=port, security={"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}[scheme],
        username=unquote(parts.username or ""), password=unquote(parts.password or ""),
        timeout=timeout, cafile=query.get("cafile", ""), helo=query.get("helo", ""))
