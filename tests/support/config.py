"""The one sources.yaml writer. A preset gives the sections a test area starts from; keyword
sections are merged over it (one level deep: `mail={"pool_size": 2}` changes that one setting),
`sources` replaces the preset's sources.

    collect      fast collect settings, the sources given (collect, CLI tests)
    editor       the editor's four sources on `base_url` (feeds, arXiv, X), its web settings
    mail         no sources, a sender and test-friendly mail settings
    mail_editor  the editor preset with a sender and mail settings (public pages, sending)
    ops          a sender, mail and the schedule (the jobs, the scheduler, the runs page/CLI)
    render       a site_url and postal address for the rendered email (the fixtures' sources)
    None         exactly the sections given
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

SITE = "https://news.example.com"
POSTAL = "서울특별시 중구 세종대로 110, AI 뉴스"
OPS_CONTACT = "editor@example.com"  # the curator the scheduled jobs write to
OFFLINE = "http://127.0.0.1:9"  # the discard port: nothing answers there

FAST_COLLECT = {"connect_timeout": 2, "read_timeout": 2, "arxiv_interval": 0.05, "retry_after_cap": 1}
# What a newsletter must name before any reader gets an issue (the shipped placeholders are refused).
PUBLISHER = {"site_url": SITE, "sender_email": "news@example.com", "postal_address": POSTAL}
SENDER = {"title": "AI 뉴스", "sender_name": "AI 뉴스 편집부", **PUBLISHER}
FAST_MAIL = {"rate_per_second": 10_000.0, "retry_base_seconds": 0.01}


def editor_sources(base_url: str = OFFLINE) -> list[dict]:
    return [
        {"id": "openai", "kind": "feed", "name": "OpenAI News", "url": f"{base_url}/openai.xml", "section": "labs"},
        {"id": "deepmind", "kind": "feed", "name": "Google DeepMind", "url": f"{base_url}/deepmind.xml",
         "section": "labs"},
        {"id": "arxiv-ai", "kind": "arxiv", "name": "arXiv cs.CL", "categories": ["cs.CL"],
         "url": f"{base_url}/arxiv/rss/", "api_url": f"{base_url}/arxiv/api/query", "section": "papers"},
        {"id": "x-karpathy", "kind": "x", "name": "@karpathy", "handle": "karpathy",
         "api_url": f"{base_url}/x/2", "section": "x"},
    ]


def _editor(base_url: str) -> dict:
    return {
        "newsletter": {"contact": "test@example.com", "timezone": "Asia/Seoul", "sections": ["labs", "papers", "x"],
                       **PUBLISHER},
        "collect": {**FAST_COLLECT, "oembed_url": f"{base_url}/oembed"},
        "web": {"allow_private_urls": False, "secure_cookies": True, "login_attempts_per_15_min": 10},
        "sources": editor_sources(base_url),
    }


def _mail_editor(base_url: str) -> dict:
    preset = _editor(base_url)
    preset["newsletter"].update({**SENDER, "contact": "jisu@example.com"})
    preset["mail"] = {"pool_size": 2, "max_attempts": 3, **FAST_MAIL}
    return preset


PRESETS = {
    None: lambda base_url: {},
    "collect": lambda base_url: {"newsletter": {"contact": "test@example.com"}, "collect": dict(FAST_COLLECT)},
    "editor": _editor,
    "mail": lambda base_url: {"newsletter": dict(SENDER), "mail": {"pool_size": 4, "max_attempts": 4, **FAST_MAIL}},
    "mail_editor": _mail_editor,
    "ops": lambda base_url: {
        "newsletter": {**SENDER, "timezone": "Asia/Seoul", "contact": OPS_CONTACT},
        "collect": {"connect_timeout": 1, "read_timeout": 1, "arxiv_interval": 0.05, "retry_after_cap": 1},
        "mail": {"pool_size": 3, "max_attempts": 3, **FAST_MAIL},
        "schedule": {"collect_cron": "0 6-23/2 * * *", "send_cron": "0 8 * * *", "misfire_grace_minutes": 60},
    },
    "render": lambda base_url: {
        "newsletter": {"contact": "test@example.com", **PUBLISHER},
        "render": {}, "collect": {"connect_timeout": 2, "read_timeout": 2, "arxiv_interval": 0.05},
    },
}


def config_document(preset: str | None = "collect", *, base_url: str = OFFLINE, sources=None,
                    **sections: dict | None) -> dict:
    document = copy.deepcopy(PRESETS[preset](base_url))
    for name, values in sections.items():
        if values is not None:
            document[name] = {**document.get(name, {}), **values}
    if sources is not None:
        document["sources"] = list(sources)
    document.setdefault("sources", [])
    return document


def write_config(path: Path, preset: str | None = "collect", *, base_url: str = OFFLINE, sources=None,
                 **sections: dict | None) -> Path:
    """Write `path` (a sources.yaml) from `preset`, `sections` merged over it, and `sources`."""
    document = config_document(preset, base_url=base_url, sources=sources, **sections)
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


# A feed nobody answers for (the discard port): every collect of it fails.
DEAD_FEED = {"id": "openai", "kind": "feed", "name": "OpenAI News", "url": f"{OFFLINE}/openai.xml", "section": "labs"}
