from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from tracking.hours import Opening, is_open, validate_time_zone

WEEKDAYS_9_TO_5 = [Opening(day, time(9), time(17)) for day in range(5)]


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 11, 23, 15, 0, tzinfo=UTC), True),  # Monday 09:00 in Chicago
        (datetime(2026, 11, 23, 14, 59, tzinfo=UTC), False),  # Monday 08:59
        (datetime(2026, 11, 23, 23, 0, tzinfo=UTC), False),  # Monday 17:00: closed
        (datetime(2026, 11, 28, 18, 0, tzinfo=UTC), False),  # Saturday noon
    ],
)
def test_hours_are_read_on_the_campaigns_clock(utc, expected):
    assert is_open(WEEKDAYS_9_TO_5, [], "America/Chicago", utc) is expected


def test_no_hours_means_always_open():
    assert is_open([], [date(2026, 12, 25)], "UTC", datetime(2026, 12, 25, tzinfo=UTC))


def test_a_holiday_closes_a_working_day():
    noon = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)  # Thursday noon in Chicago
    assert is_open(WEEKDAYS_9_TO_5, [], "America/Chicago", noon)
    assert not is_open(WEEKDAYS_9_TO_5, [date(2026, 11, 26)], "America/Chicago", noon)


def test_daylight_saving_time_moves_the_hours_with_the_clock():
    # 09:30 in Chicago is 14:30 UTC in summer (CDT) and 15:30 UTC in winter (CST).
    assert is_open(WEEKDAYS_9_TO_5, [], "America/Chicago", datetime(2026, 7, 6, 14, 30, tzinfo=UTC))
    assert not is_open(
        WEEKDAYS_9_TO_5, [], "America/Chicago", datetime(2026, 12, 7, 14, 30, tzinfo=UTC)
    )


def test_time_zones_are_validated():
    validate_time_zone("Europe/London")
    with pytest.raises(ValidationError):
        validate_time_zone("Mars/Olympus_Mons")
