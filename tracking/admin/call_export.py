"""The call list as CSV: the filtered calls, streamed, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.utils import timezone

CSV_COLUMNS = [
    ("Started at", "started_at"),
    ("Call SID", "call_sid"),
    ("Campaign", "campaign__name"),
    ("Tracking number", "tracking_number__phone_number"),
    ("Called number", "called_number"),
    ("Caller number", "caller_number"),
    ("Caller name", "caller_name"),
    ("City", "caller_city"),
    ("State", "caller_state"),
    ("ZIP", "caller_zip"),
    ("Country", "caller_country"),
    ("Forwarded to", "forwarded_to"),
    ("Outcome", "outcome"),
    ("Decision", "decision"),
    ("Dial status", "dial_status"),
    ("Whispered at", "whispered_at"),
    ("Decided at", "decided_at"),
    ("Ended at", "ended_at"),
    ("Talk seconds", "talk_seconds"),
    ("Duration seconds", "duration_seconds"),
    ("Menu choice", "menu_choice"),
    ("Caller ID attestation", "stir_verstat"),
    ("Spam", "spam"),
    ("Screened because", "screening_reason"),
    ("Qualified lead", "qualified_lead"),
    # Appended to each row by leads.with_tags.
    ("Tags", None),
]
_PLAIN_NUMBER = re.compile(r"[+-]?\d+")


def csv_value(value: object) -> object:
    """A cell as people read it: local times, and caller-supplied text (a CNAM name, a junk
    "From") that a spreadsheet will not run as a formula; +15125550100 stays as it is."""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        if not _PLAIN_NUMBER.fullmatch(value):
            return "'" + value
    return value


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in CSV_COLUMNS])
    for row in rows:
        yield writer.writerow([csv_value(value) for value in row])
