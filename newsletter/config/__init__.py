"""sources.yaml + environment -> validated, frozen settings.

Every mistake is reported with the file, the line, the source id and the field, and unknown
keys are errors: a typo must not silently turn a setting off. Secrets come only from the
environment (X_BEARER_TOKEN, ...), never from the file.

    settings.py   the dataclasses, their defaults and bounds
    loading.py    load_settings / parse_settings: YAML -> checked Settings
    smtp.py       NEWSLETTER_SMTP_URL -> SmtpConfig
"""

from .loading import load_settings, parse_settings
from .settings import (
    PLACEHOLDERS,
    TEMPLATE_AREAS,
    TEMPLATES_DIR,
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
from .smtp import SmtpConfig, parse_smtp_url

__all__ = [
    "PLACEHOLDERS", "TEMPLATE_AREAS", "TEMPLATES_DIR", "CollectSettings", "LlmSettings", "MailSettings",
    "NewsletterSettings", "RenderSettings", "ScheduleSettings", "Settings", "SmtpConfig", "SourceConfig",
    "WebSettings", "load_settings", "parse_settings", "parse_smtp_url",
]
