"""The settings themselves: one frozen dataclass per section of sources.yaml, their defaults
(which are what a section left out means) and the bounds loading checks them against."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from ..errors import ConfigError
from ..model import SourceKind

# templates/ (email/, web/, archive/) at the top of the checkout, so a curator finds it without
# reading code; an installed wheel carries it as newsletter/templates/ (pyproject.toml). Resolved
# here once, handed out by the composition root; newsletter.templates_dir restyles over it.
_PACKAGE = Path(__file__).resolve().parent.parent  # newsletter/
_PACKAGED_TEMPLATES = _PACKAGE / "templates"
TEMPLATES_DIR = _PACKAGED_TEMPLATES if _PACKAGED_TEMPLATES.is_dir() else _PACKAGE.parent / "templates"
TEMPLATE_AREAS = ("email", "web", "archive")
MAY_BE_ZERO = frozenset({"predraft_top", "backfill_keep"})  # numeric settings where 0 means "none"
# Upper bounds past which a number is a typo, not a choice (`max_body_mb: 1e12`); the rest
# share NUMBER_CEILING. Each leaves ample room for a real setup.
CEILINGS = {"max_body_mb": 1024, "connect_timeout": 3600, "read_timeout": 3600, "timeout": 3600,
            "retry_after_cap": 86_400, "concurrency": 1000, "per_host": 100, "pool_size": 100,
            "rate_per_second": 10_000, "max_redirects": 50, "max_attempts": 100,
            "retry_base_seconds": 3600, "deadline_hours": 24 * 14, "backfill_days": 3650}
NUMBER_CEILING = 1_000_000
# What the shipped sources.yaml and the defaults say until the operator fills them in: no
# reader may get an issue from these (issue ready and send refuse while any is left).
PLACEHOLDERS = {
    "site_url": "https://your-newsletter.example",
    "sender_email": "newsletter@your-newsletter.example",
    "postal_address": "서울특별시 (set newsletter.postal_address)",
}
PLACEHOLDER_WORDS = {"site_url": "사이트 주소", "sender_email": "보내는 주소", "postal_address": "우편 주소"}
SOURCE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
ARXIV_CATEGORY_RE = re.compile(r"^[a-z-]+(\.[A-Za-z-]+)?$")
ANNOUNCE_TYPES = frozenset({"new", "cross", "replace", "replace-cross"})


@dataclass(frozen=True)
class NewsletterSettings:
    title: str = "AI 뉴스"
    timezone: str = "Asia/Seoul"
    site_url: str = PLACEHOLDERS["site_url"]
    contact: str = "curator@example.com"  # named in the User-Agent so sites can reach us
    sender_name: str = "AI 뉴스"
    sender_email: str = PLACEHOLDERS["sender_email"]  # From: of every issue
    reply_to: str = ""
    postal_address: str = PLACEHOLDERS["postal_address"]  # footer line bulk-sender rules ask for
    subject_template: str = "{title} #{number} — {date}"  # {title} {number} {date} (e.g. 2024년 7월 19일 (금))
    sections: tuple[str, ...] = ("labs", "papers", "x")  # order of sections in the queue and the issue
    # a directory laid out like templates/: each of its email/, web/, archive/ replaces the shipped
    # one (copy it from templates/ and edit); relative to the config file's directory
    templates_dir: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def placeholder_refusal(self) -> str:
        """Why no reader may get an issue yet, naming each setting still holding its shipped
        placeholder (Korean: the curator and the operator both read it); '' once none is left."""
        left = [name for name, shipped in PLACEHOLDERS.items()
                if getattr(self, name).strip().rstrip("/").lower() == shipped.lower()]
        if not left:
            return ""
        named = ", ".join(f"newsletter.{name} ({PLACEHOLDER_WORDS[name]})" for name in left)
        return (f"아직 예시 값 그대로인 설정이 있어 독자에게 보낼 수 없습니다: {named}. "
                "sources.yaml에 실제 값을 적어 주세요.")


@dataclass(frozen=True)
class RenderSettings:
    abstract_chars: int = 600  # longer abstracts are trimmed with a link to the rest
    authors_shown: int = 20  # every author of most papers; a longer list ends "외 N명"
    preheader_chars: int = 90


@dataclass(frozen=True)
class LlmSettings:
    """An OpenAI-compatible chat-completions endpoint for commentary drafts; off while base_url
    is empty. The key comes only from NEWSLETTER_LLM_API_KEY (optional for local servers)."""

    base_url: str = ""  # e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama)
    model: str = ""
    timeout: float = 60.0  # seconds for one answer
    max_tokens: int = 400
    examples: int = 3  # the curator's own past commentary on the most similar items, in the prompt
    predraft_top: int = 0  # after a collect, draft the top-k ranked waiting items (0: never)
    daily_max_requests: int = 50

    @property
    def enabled(self) -> bool:
        return bool(self.base_url and self.model)


@dataclass(frozen=True)
class WebSettings:
    allow_private_urls: bool = False  # add-by-URL may fetch loopback/private addresses (tests only)
    login_attempts_per_15_min: int = 10
    subscribe_per_ip_per_hour: int = 5
    subscribe_per_address_per_day: int = 3
    secure_cookies: bool = True  # set false only for plain-http development


@dataclass(frozen=True)
class MailSettings:
    pool_size: int = 4  # SMTP connections reused in parallel
    rate_per_second: float = 20.0
    max_attempts: int = 5  # per delivery, for 4xx replies and dropped connections
    retry_base_seconds: float = 2.0  # exponential backoff: base, 2 x base, 4 x base, ...
    deadline_hours: float = 24.0  # no send later than this after the issue date's local midnight


@dataclass(frozen=True)
class ScheduleSettings:
    collect_cron: str = "0 6-23/2 * * *"  # minute hour day month day-of-week, newsletter time zone
    send_cron: str = "0 8 * * *"
    misfire_grace_minutes: int = 60


@dataclass(frozen=True)
class CollectSettings:
    concurrency: int = 16  # requests in flight across all hosts
    per_host: int = 2  # requests in flight to one host
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_body_mb: float = 10.0
    max_redirects: int = 5
    retry_after_cap: float = 60.0  # wait at most this long when a server says Retry-After
    arxiv_interval: float = 3.0  # arXiv's terms: one connection, >= 3 s between requests
    stale_after_days: int = 4  # an arXiv listing older than this (weekends included) is stale
    oembed_url: str = "https://publish.x.com/oembed"  # resolves pasted X post URLs, no auth
    # A source's first collect (and a source added later) puts only this many days of entries in
    # the queue, plus always its newest `backfill_keep` ones; older ones are stored as seen.
    backfill_days: float = 3.0
    backfill_keep: int = 5

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)


@dataclass(frozen=True)
class SourceConfig:
    id: str
    kind: SourceKind
    name: str
    section: str
    display_name: str = ""  # what readers see ("Mistral AI"), when `name` is the curator's label
    url: str = ""  # feed URL, arXiv listing base, HF Daily Papers API, or an X profile's web URL
    enabled: bool = True
    categories: tuple[str, ...] = ()  # arxiv
    announce_types: tuple[str, ...] = ("new", "cross")  # arxiv
    api_url: str = ""  # arxiv API, X API v2 base, Bluesky XRPC base
    handle: str = ""  # x, bluesky
    include_replies: bool = False  # x
    include_reposts: bool = False  # x, bluesky
    max_results: int = 50  # x posts per request

    @property
    def reader_name(self) -> str:
        return self.display_name or self.name


@dataclass(frozen=True)
class Settings:
    path: str
    newsletter: NewsletterSettings
    collect: CollectSettings
    sources: tuple[SourceConfig, ...]
    render: RenderSettings = RenderSettings()
    web: WebSettings = WebSettings()
    mail: MailSettings = MailSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    llm: LlmSettings = LlmSettings()
    # secrets, from the environment only
    x_bearer_token: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)  # NEWSLETTER_SECRET: sessions, CSRF, tokens
    llm_api_key: str = field(default="", repr=False)  # NEWSLETTER_LLM_API_KEY: never logged or shown
    smtp_url: str = field(default="", repr=False)  # NEWSLETTER_SMTP_URL: smtp[s]://user:pass@host:port

    def templates(self, area: str) -> Path:
        """templates/<area> (email, web or archive): newsletter.templates_dir's if it has one."""
        own = Path(self.newsletter.templates_dir) / area if self.newsletter.templates_dir else None
        return own if own is not None and own.is_dir() else TEMPLATES_DIR / area

    def source(self, source_id: str) -> SourceConfig:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise ConfigError(f"no source with id {source_id!r}", path=self.path, source_id=source_id)

    def disabled_reason(self, source: SourceConfig) -> str:
        """Why a configured source will not be collected, or "" if it will."""
        if not source.enabled:
            return "disabled in config"
        if source.kind is SourceKind.X and not self.x_bearer_token:
            return "X_BEARER_TOKEN is not set"
        return ""

    @property
    def active_sources(self) -> tuple[SourceConfig, ...]:
        return tuple(s for s in self.sources if not self.disabled_reason(s))
