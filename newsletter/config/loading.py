"""Reading sources.yaml: YAML (duplicate keys refused) -> checked values -> Settings. Every
mistake names the file, the line, the source id and the field."""

from __future__ import annotations

import math
import os
import re
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger

from ..errors import ConfigError
from ..kinds import KINDS
from ..model import SourceKind
from .settings import (
    ANNOUNCE_TYPES,
    ARXIV_CATEGORY_RE,
    CEILINGS,
    MAY_BE_ZERO,
    NUMBER_CEILING,
    SOURCE_ID_RE,
    TEMPLATE_AREAS,
    CollectSettings,
    LlmSettings,
    MailSettings,
    NewsletterSettings,
    RenderSettings,
    ScheduleSettings,
    Settings,
    SourceConfig,
    WebSettings,
)
from .smtp import parse_smtp_url

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
