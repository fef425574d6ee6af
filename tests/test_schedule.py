from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from newsletter.config import parse_settings
from newsletter.errors import ConfigError
from newsletter.schedule import cron_trigger, fire_times, job_triggers, missed_fire, next_fire

SEOUL = ZoneInfo("Asia/Seoul")


def test_default_cron_times_fire_in_seoul_time():
    triggers = job_triggers(parse_settings({}))
    day_start = datetime(2024, 7, 19, tzinfo=SEOUL)
    collects = fire_times(triggers["collect"], day_start, day_start + timedelta(days=1))
    assert [t.astimezone(SEOUL).hour for t in collects] == [6, 8, 10, 12, 14, 16, 18, 20, 22]
    send = next_fire(triggers["send"], day_start)
    assert send == datetime(2024, 7, 19, 8, 0, tzinfo=SEOUL)
    assert send.astimezone(timezone.utc) == datetime(2024, 7, 18, 23, 0, tzinfo=timezone.utc)


def test_a_missed_send_is_found_only_inside_the_grace_window():
    send = cron_trigger("0 8 * * *", SEOUL)
    eight = datetime(2024, 7, 19, 8, 0, tzinfo=SEOUL)
    grace = timedelta(minutes=60)
    assert missed_fire(send, eight + timedelta(minutes=20), grace) == eight
    assert missed_fire(send, eight, grace) == eight
    assert missed_fire(send, eight + timedelta(minutes=61), grace) is None
    assert missed_fire(send, eight - timedelta(minutes=1), grace) is None


def test_a_bad_cron_expression_is_a_config_error():
    with pytest.raises(ConfigError, match="schedule.send_cron"):
        parse_settings({"schedule": {"send_cron": "at eight"}})  # fails fast, at load time
