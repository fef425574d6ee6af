"""sources.yaml + environment -> validated, frozen settings.

Every mistake is reported with the file, the line, the source id and the field, and unknown
keys are errors: a typo must not silently turn a setting off. Secrets come only from the
environment (X_BEARER_TOKEN, ...), never from the file.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger

from .errors import ConfigError
from .kinds import KINDS
from .model import SourceKind

# templates/ (email/, web/, archive/) at the top of the checkout, so a curator finds it without
# reading code; an installed wheel carries it as newsletter/templates/ (pyproject.toml). Resolved
# here once, handed out by the composition root; newsletter.templates_dir restyles over it.
_PACKAGED_TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATES_DIR = (_PACKAGED_TEMPLATES if _PACKAGED_TEMPLATES.is_dir()
                 else Path(__file__).resolve().parent.parent / "templates")
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




def load_settings(path: str | os.PathLike, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a sources.yaml; raise ConfigError naming what is wrong and where."""
    environ = os.environ if environ is None else environ
    path_str = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError("file not found", path=path_str) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read: {e}", path=path_str) from e
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)
        lines = _source_lines(yaml.compose(text))
    except yaml.YAMLError as e:
        raise ConfigError(f"not valid YAML: {e}", path=path_str) from e
    return parse_settings(document, path=path_str, environ=environ, lines=lines)


def _check_number(value: float, name: str, *, path: str, field: str) -> None:
    # NaN fails every comparison, so `value <= 0` alone lets it (and infinity) through.
    if not math.isfinite(value):
        raise ConfigError(f"must be a finite number, got {value!r}", path=path, field=field)
    if value < 0 or (value == 0 and name not in MAY_BE_ZERO):
        raise ConfigError("must be a positive number", path=path, field=field)
    ceiling = CEILINGS.get(name, NUMBER_CEILING)
    if value > ceiling:
        raise ConfigError(f"must be at most {ceiling:,}, got {value!r}", path=path, field=field)


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice in one mapping: YAML keeps the last one
    silently, and a setting overridden further down is a mistake nobody sees."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {line}; first given on line {seen[key]})",
                    key_node.start_mark)
            if isinstance(key, (str, int, float, bool)):
                seen[key] = line
        return super().construct_mapping(node, deep)


def _source_lines(root: yaml.Node | None) -> list[int]:
    """1-based line of each entry under `sources:`, so errors can point at it."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "sources" and isinstance(value, yaml.SequenceNode):
            return [node.start_mark.line + 1 for node in value.value]
    return []


def parse_settings(
    document: Any, *, path: str = "sources.yaml", environ: Mapping[str, str] | None = None,
    lines: list[int] | None = None,
) -> Settings:
    environ = {} if environ is None else environ
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError("the top level must be a mapping with 'newsletter' and 'sources'", path=path)
    _reject_unknown(document, {"newsletter", "collect", "render", "web", "mail", "schedule", "llm", "sources"},
                    path=path)
    newsletter = _section(NewsletterSettings, document.get("newsletter"), "newsletter", path)
    try:
        newsletter.zone
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(f"unknown time zone {newsletter.timezone!r}", path=path,
                          field="newsletter.timezone") from e
    if urlsplit(newsletter.site_url).scheme not in ("http", "https"):
        raise ConfigError("must be an http(s) URL", path=path, field="newsletter.site_url")
    if newsletter.templates_dir:
        newsletter = replace(newsletter, templates_dir=str(_templates_dir(newsletter.templates_dir, path)))
    sections = {name: _section(cls, document.get(name), name, path) for name, cls in (
        ("collect", CollectSettings), ("render", RenderSettings), ("web", WebSettings),
        ("mail", MailSettings), ("schedule", ScheduleSettings), ("llm", LlmSettings))}
    for name, section in sections.items():
        for f in fields(section):
            if f.type in ("int", "float"):
                _check_number(getattr(section, f.name), f.name, path=path, field=f"{name}.{f.name}")
    llm = sections["llm"]
    if llm.base_url and urlsplit(llm.base_url).scheme not in ("http", "https"):
        raise ConfigError("must be an http(s) URL", path=path, field="llm.base_url")
    if llm.base_url and not llm.model:
        raise ConfigError("required with llm.base_url (the model's name, e.g. gpt-4o-mini or llama3.1)",
                          path=path, field="llm.model")

    for name in ("collect_cron", "send_cron"):
        try:
            CronTrigger.from_crontab(getattr(sections["schedule"], name))
        except ValueError as e:
            raise ConfigError(f"not a cron expression (minute hour day month weekday): {e}", path=path,
                              field=f"schedule.{name}") from e

    raw_sources = document.get("sources") or []
    if not isinstance(raw_sources, list):
        raise ConfigError("must be a list of sources", path=path, field="sources")
    lines = lines or []
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_sources):
        where = f"{path}:{lines[index]}" if index < len(lines) else path
        source = _parse_source(raw, index, where)
        if source.id in seen:
            raise ConfigError("duplicate id", path=where, source_id=source.id, field="id")
        seen.add(source.id)
        sources.append(source)
    smtp_url = environ.get("NEWSLETTER_SMTP_URL", "").strip()
    if smtp_url:  # unset is fine (nothing is mailed); mistyped must not wait for the first mail
        parse_smtp_url(smtp_url)
    return Settings(
        path=path,
        newsletter=newsletter,
        sources=tuple(sources),
        **sections,
        x_bearer_token=environ.get("X_BEARER_TOKEN", "").strip(),
        secret_key=environ.get("NEWSLETTER_SECRET", "").strip(),
        llm_api_key=environ.get("NEWSLETTER_LLM_API_KEY", "").strip(),
        smtp_url=smtp_url,
    )


def _templates_dir(value: str, path: str) -> Path:
    directory = (Path(path).parent / Path(value).expanduser()).resolve()
    if not directory.is_dir():
        raise ConfigError(f"no such directory: {directory}", path=path, field="newsletter.templates_dir")
    if not any((directory / area).is_dir() for area in TEMPLATE_AREAS):
        raise ConfigError(f"{directory} holds none of {', '.join(a + '/' for a in TEMPLATE_AREAS)} "
                          "(copy the one to restyle from templates/)", path=path, field="newsletter.templates_dir")
    return directory


def _reject_unknown(mapping: dict, allowed: set[str], *, path: str, source_id: str = "",
                    prefix: str = "") -> None:
    for key in mapping:
        if key not in allowed:
            raise ConfigError(
                f"unknown key (allowed: {', '.join(sorted(allowed))})",
                path=path, source_id=source_id, field=f"{prefix}{key}",
            )


def _section(cls, raw: Any, name: str, path: str):
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping", path=path, field=name)
    defaults = {f.name: f.default for f in fields(cls)}
    _reject_unknown(raw, set(defaults), path=path, prefix=f"{name}.")
    values = {}
    for key, value in raw.items():
        expected = type(defaults[key])
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = tuple(value)
        if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(f"must be {expected.__name__}, got {value!r}", path=path,
                              field=f"{name}.{key}")
        values[key] = value
    return cls(**values)


def _parse_source(raw: Any, index: int, where: str) -> SourceConfig:
    # Long on purpose: one small reader per field, in the order of the fields, so every error
    # names its source and field and the whole of a source's rules reads top to bottom.
    if not isinstance(raw, dict):
        raise ConfigError(f"source #{index + 1} must be a mapping", path=where)
    source_id = raw.get("id")
    if not isinstance(source_id, str) or not SOURCE_ID_RE.match(source_id):
        raise ConfigError(
            f"source #{index + 1}: id must be lower-case letters, digits and '-', got {source_id!r}",
            path=where, field="id",
        )
    try:
        kind = SourceKind(raw.get("kind"))
    except ValueError as e:
        raise ConfigError(
            f"kind must be one of {', '.join(k.value for k in SourceKind)}, got {raw.get('kind')!r}",
            path=where, source_id=source_id, field="kind",
        ) from e
    _reject_unknown(raw, KINDS[kind].fields, path=where, source_id=source_id)
    for required in KINDS[kind].required:
        if not raw.get(required):
            raise ConfigError(f"required for kind {kind}", path=where, source_id=source_id, field=required)

    def string(key: str, default: str = "") -> str:
        value = raw.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(f"must be a string, got {value!r}", path=where, source_id=source_id, field=key)
        return value.strip()

    def url(key: str) -> str:
        value = string(key)
        if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
            raise ConfigError(f"must be an http(s) URL, got {value!r}", path=where, source_id=source_id,
                              field=key)
        return value

    def flag(key: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"must be true or false, got {value!r}", path=where, source_id=source_id,
                              field=key)
        return value

    def string_list(key: str, default: tuple[str, ...], pattern: re.Pattern | frozenset) -> tuple[str, ...]:
        value = raw.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise ConfigError("must be a non-empty list", path=where, source_id=source_id, field=key)
        for entry in value:
            ok = entry in pattern if isinstance(pattern, frozenset) else (
                isinstance(entry, str) and pattern.match(entry))
            if not ok:
                raise ConfigError(f"invalid entry {entry!r}", path=where, source_id=source_id, field=key)
        return tuple(value)

    max_results = raw.get("max_results", 50)
    if not isinstance(max_results, int) or isinstance(max_results, bool) or not 5 <= max_results <= 100:
        raise ConfigError("must be an integer from 5 to 100 (the X API's range)", path=where,
                          source_id=source_id, field="max_results")
    handle = string("handle").lstrip("@")
    if KINDS[kind].handle and not re.fullmatch(KINDS[kind].handle, handle):
        raise ConfigError(f"not {KINDS[kind].handle_label}: {handle!r}", path=where, source_id=source_id,
                          field="handle")

    return SourceConfig(
        id=source_id,
        kind=kind,
        name=string("name") or source_id,
        display_name=string("display_name"),
        section=string("section") or KINDS[kind].section,
        url=url("url") or KINDS[kind].url,
        enabled=flag("enabled", True),
        categories=string_list("categories", ("cs.AI",), ARXIV_CATEGORY_RE) if kind is SourceKind.ARXIV else (),
        announce_types=(string_list("announce_types", ("new", "cross"), ANNOUNCE_TYPES)
                        if kind is SourceKind.ARXIV else ("new", "cross")),
        api_url=url("api_url") or KINDS[kind].api_url,
        handle=handle,
        include_replies=flag("include_replies", False),
        include_reposts=flag("include_reposts", False),
        max_results=max_results,
    )
