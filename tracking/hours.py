"""Business hours: is a campaign open at a given moment?

Kept apart from the models because routing answers it from the cache too, while the database
is down: everything here works on plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Opening:
    weekday: int  # 0 is Monday, as date.weekday() counts
    opens: time
    closes: time

    def covers(self, moment: datetime) -> bool:
        return moment.weekday() == self.weekday and self.opens <= moment.time() < self.closes


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_open(
    openings: Iterable[Opening], holidays: Iterable[date], time_zone: str, at: datetime
) -> bool:
    """Open at `at` (an aware datetime) by the campaign's own clock.

    No openings at all means "always open": business hours are something a campaign opts in to.
    A holiday closes the whole day, whatever the openings say.
    """
    openings = list(openings)
    if not openings:
        return True
    local = at.astimezone(zone(time_zone))
    if local.date() in set(holidays):
        return False
    return any(opening.covers(local) for opening in openings)


def validate_time_zone(name: str) -> None:
    if name not in available_timezones():
        raise ValidationError(
            "“%(name)s” is not a time zone. Use a name such as America/Chicago or Europe/London.",
            params={"name": name},
            code="invalid_time_zone",
        )
