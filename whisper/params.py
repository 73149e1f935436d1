"""Reading what Twilio sends (POST parameters, and the query strings of the URLs our TwiML
names): everything optional, nothing trusted, nothing raises.

Every number and every piece of text a webhook reads goes through `TwilioParams`, so one set of
rules applies everywhere: numbers are ASCII digits only (`str.isdigit` accepts "²", `int` does
not), and text loses NUL and other control characters (PostgreSQL refuses NUL in text, and none
belong in a log) and is cut to a bound length.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.http import QueryDict

from tracking import phones
from tracking.services import IncomingCall

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"[\t\n\r]+")
_DIGITS = re.compile(r"[0-9]{1,9}")

# Longer than any value Twilio sends; what is longer is cut before it goes anywhere.
MAX_LENGTH = 512


def clean(value: str, limit: int = MAX_LENGTH) -> str:
    """`value` without control characters, cut to `limit` and stripped."""
    return _SPACE.sub(" ", _CONTROL.sub("", value[: limit * 2]))[:limit].strip()


def whole_number(value: str, *, maximum: int) -> int | None:
    """A non-negative whole number written in ASCII digits, at most `maximum`; else None."""
    value = value.strip()
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= maximum else None


class TwilioParams:
    def __init__(self, data: QueryDict) -> None:
        self.data = data

    def text(self, *names: str, limit: int = MAX_LENGTH) -> str:
        """The first non-empty value among `names` (current name first, legacy aliases after)."""
        for name in names:
            value = clean(self.data.get(name, ""), limit)
            if value:
                return value
        return ""

    def number(self, *names: str) -> str:
        return phones.normalize(self.text(*names))

    def integer(self, name: str, *, maximum: int) -> int | None:
        return whole_number(self.data.get(name, ""), maximum=maximum)

    def integers(self, name: str, *, maximum: int, count: int) -> list[int]:
        """A comma-separated list of whole numbers; what is not one is left out."""
        parts = self.data.get(name, "")[: count * 4].split(",")[:count]
        numbers = (whole_number(part, maximum=maximum) for part in parts)
        return [number for number in numbers if number is not None]

    def seconds(self, name: str) -> int | None:
        return self.integer(name, maximum=9_999_999)

    def boolean(self, name: str) -> bool | None:
        return {"true": True, "false": False}.get(self.text(name).lower())

    def timestamp(self, name: str) -> datetime | None:
        """An RFC 2822 time; None for anything unreadable or implausible."""
        try:
            value = parsedate_to_datetime(self.text(name))
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        now = datetime.now(UTC)
        if not now - timedelta(days=2) <= value <= now + timedelta(hours=1):
            return None
        return value

    @property
    def call_sid(self) -> str:
        return self.text("CallSid", limit=64)

    @property
    def parent_call_sid(self) -> str:
        return self.text("ParentCallSid", limit=64)

    def incoming_call(self) -> IncomingCall:
        return IncomingCall(
            sid=self.call_sid,
            called=self.number("To", "Called"),
            caller=self.number("From", "Caller"),
            caller_name=self.text("CallerName"),
            city=self.text("FromCity", "CallerCity"),
            state=self.text("FromState", "CallerState"),
            zip=self.text("FromZip", "CallerZip"),
            country=self.text("FromCountry", "CallerCountry"),
            stir_verstat=self.text("StirVerstat"),
        )
