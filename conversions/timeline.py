"""A call's conversions on its timeline: when it went to Google, or why it did not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from conversions.models import Upload
from tracking.models import Call

Status = Upload.Status


def entries(call: Call) -> Iterator[tuple[datetime | None, str, str, str]]:
    """(when, title, detail, css) of each upload that has come to something; one query."""
    for upload in Upload.objects.filter(call_id=call.call_sid).order_by("destination"):
        where = upload.get_destination_display()
        if upload.status == Status.SENT:
            yield upload.sent_at, f"Sent to {where} as a conversion", "", "conversion"
        elif upload.status == Status.FAILED:
            yield (
                upload.updated_at,
                f"{where} refused the conversion",
                upload.last_error,
                "conversion conversion-failed",
            )
        elif upload.status in (Status.PENDING, Status.SENDING):
            yield None, f"Waiting to be sent to {where} as a conversion", "", "conversion"
