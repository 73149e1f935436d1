"""Google Ads' offline-conversion import file (support.google.com/google-ads/answer/7014069):
the time zone line, then exactly the template's columns, one row per qualified call with a
Google click id.

The template's "Google Click ID" column is documented for the gclid; that it takes a gbraid or
wbraid is confirmed nowhere, so calls carrying only those are left out of the file (the Data
Manager API upload sends them, in their own fields). Click ids are written only when made of
the characters Google uses (letters, digits, "-" and "_"), which no spreadsheet runs as a
formula; a quote in front, as other cells get, would break the id. No personal data.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date

from django.conf import settings
from django.utils import timezone

from conversions.selectors import conversions_between
from tracking.admin.call_export import csv_value
from tracking.selectors import Period

HEADER = [
    "Google Click ID",
    "Conversion Name",
    "Conversion Time",
    "Conversion Value",
    "Conversion Currency",
]
_CLICK_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")


class _Echo:
    def write(self, value: str) -> str:
        return value


def lines(*, first: date, last: date, conversion_name: str) -> Iterator[str]:
    """The file for the calls that rang from `first` to `last` (whole days, both included)."""
    writer = csv.writer(_Echo())
    zone = timezone.get_default_timezone()
    yield writer.writerow([f"Parameters:TimeZone={settings.TIME_ZONE}"])
    yield writer.writerow(HEADER)
    name = csv_value(conversion_name)
    for row in conversions_between(*Period(first, last).bounds()):
        if not row.gclid or not _CLICK_ID.fullmatch(row.gclid):
            continue
        value = "" if row.value is None else f"{row.value:f}"
        yield writer.writerow(
            [
                row.gclid,
                name,
                row.started_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                value,
                csv_value(row.currency) if value else "",
            ]
        )


def left_out(*, first: date, last: date) -> int:
    """Qualified calls of those days with a Google click id the file cannot carry (a gbraid or
    wbraid only, or an id of other characters)."""
    return sum(
        1
        for row in conversions_between(*Period(first, last).bounds())
        if not row.gclid or not _CLICK_ID.fullmatch(row.gclid)
    )
