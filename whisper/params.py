"""Reading Twilio's POST parameters: everything optional, nothing trusted, nothing raises."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.http import QueryDict

from tracking import phones
from tracking.services import IncomingCall

# NUL and other control characters: PostgreSQL refuses NUL in text, and none belong in a log.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Longer than any value Twilio sends; what is longer is cut before it goes anywhere.
MAX_LENGTH = 512


class TwilioParams:
    def __init__(self, data: QueryDict) -> None:
        self.data = data

    def text(self, *names: str) -> str:
        """The first non-empty value among `names` (current name first, legacy aliases after)."""
        for name in names:
            value = _CONTROL.sub("", self.data.get(name, "")[:MAX_LENGTH]).strip()
            if value:
                return value
        return ""

    def number(self, *names: str) -> str:
        return phones.normalize(self.text(*names))

    def seconds(self, name: str) -> int | None:
        value = self.text(name)
        if not value.isdigit() or len(value) > 7:
            return None
        return int(value)

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
        return self.text("CallSid")

    @property
    def parent_call_sid(self) -> str:
        return self.text("ParentCallSid")

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
        )
