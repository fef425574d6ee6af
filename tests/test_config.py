from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.errors import ConfigError
from newsletter.model import SourceKind

ROOT = Path(__file__).parent.parent


def test_the_shipped_sources_yaml_is_valid_and_x_waits_for_its_token():
    settings = load_settings(ROOT / "sources.yaml", environ={})
    ids = {s.id for s in settings.sources}
    assert {"openai", "google-deepmind", "google-research", "huggingface", "mistral", "microsoft-research",
            "apple-ml", "nvidia", "meta-engineering", "arxiv-ai", "x-karpathy"} <= ids
    arxiv = settings.source("arxiv-ai")
    assert arxiv.categories == ("cs.CL", "cs.LG", "cs.AI") and arxiv.announce_types == ("new", "cross")
    assert settings.newsletter.timezone == "Asia/Seoul"
    assert "x-karpathy" not in {s.id for s in settings.active_sources}
    assert settings.disabled_reason(settings.source("x-karpathy")) == "X_BEARER_TOKEN is not set"
    with_token = load_settings(ROOT / "sources.yaml", environ={"X_BEARER_TOKEN": "t"})
    assert with_token.source("x-karpathy").kind is SourceKind.X
    assert "x-karpathy" in {s.id for s in with_token.active_sources}


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("body, expected", [
    ("sources:\n  - id: openai\n    kind: feed\n    url: https://x.test/rss\n    sectoin: labs\n",
     ["sources.yaml:2", "source 'openai'", "field 'sectoin'", "unknown key"]),
    ("sources:\n  - id: a\n    kind: feed\n    url: https://x.test/a\n  - id: arxiv\n    kind: arxiv\n"
     "    url: https://rss.test/\n",
     ["sources.yaml:5", "source 'arxiv'", "field 'categories'", "required"]),
    ("sources:\n  - id: Bad_Id\n    kind: feed\n    url: https://x.test\n", ["field 'id'", "lower-case"]),
    ("sources:\n  - id: a\n    kind: rss\n    url: https://x.test\n", ["source 'a'", "field 'kind'"]),
    ("sources:\n  - id: a\n    kind: feed\n    url: file:///etc/passwd\n", ["field 'url'", "http(s)"]),
    ("sources:\n  - id: a\n    kind: feed\n    url: https://a.test\n  - id: a\n    kind: feed\n"
     "    url: https://b.test\n", ["source 'a'", "duplicate"]),
    ("newsletter:\n  timezone: Mars/Olympus\n", ["newsletter.timezone"]),
    ("collect:\n  read_timeout: soon\n", ["collect.read_timeout", "must be float"]),
    ("collect:\n  concurency: 3\n", ["collect.concurency", "unknown key"]),
    ("sources:\n  - id: a\n    kind: arxiv\n    url: https://rss.test/\n    categories: [cs.CL]\n"
     "    announce_types: [new, replaced]\n", ["field 'announce_types'", "'replaced'"]),
    ("sources: [\n", ["not valid YAML"]),
    # NaN and infinity fail no comparison: `max_body_mb: .inf` broke every source
    ("collect:\n  max_body_mb: .inf\n", ["collect.max_body_mb", "finite"]),
    ("mail:\n  rate_per_second: .nan\n", ["mail.rate_per_second", "finite"]),
    ("collect:\n  max_body_mb: 1000000000000\n", ["collect.max_body_mb", "at most 1,024"]),
    ("collect:\n  backfill_keep: -1\n", ["collect.backfill_keep", "positive"]),
    # YAML keeps the last of two equal keys without a word; a setting overridden further down
    # is a mistake nobody sees
    ("newsletter:\n  title: AI 뉴스\n  timezone: Asia/Seoul\n  title: 다른 제목\n",
     ["duplicate key 'title'", "line 4", "first given on line 2"]),
    ("sources:\n  - id: a\n    kind: feed\n    url: https://a.test\n    url: https://b.test\n",
     ["duplicate key 'url'", "line 5"]),
])
def test_bad_config_names_the_file_the_source_and_the_field(tmp_path, body, expected):
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, body), environ={})
    for fragment in expected:
        assert fragment in str(raised.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_defaults_fill_what_is_left_out(tmp_path):
    settings = load_settings(write(tmp_path, "sources:\n  - id: p\n    kind: arxiv\n    url: https://r.test/\n"
                                             "    categories: cs.CL\n"), environ={})
    source = settings.source("p")
    assert source.section == "papers" and source.categories == ("cs.CL",)
    assert source.api_url == "https://export.arxiv.org/api/query"
    assert settings.collect.max_body_bytes == 10 * 1024 * 1024
    assert settings.newsletter.title == "AI 뉴스"
