"""Forgetting callers: anonymising or deleting old calls, their recordings included.

A call's recordings and transcriptions live on Twilio as well as in the log: they are deleted
there first (through whisper.twilio_api, the one module that talks to Twilio's API), and a call
whose recordings Twilio could not delete is left as it is, to be tried again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from tracking.models import Call, CallLeg, Recording
from whisper import twilio_api

# An anonymised call's SID: unique, and meaningless to Twilio.
ANONYMISED_PREFIX = "anonymised-"

# What could lead back to the caller; the rest of a call is what reports count.
PERSONAL = {
    "caller_number": "",
    "caller_name": "",
    "caller_city": "",
    "caller_state": "",
    "caller_zip": "",
    "caller_country": "",
    "dial_call_sid": "",
}


@dataclass
class Result:
    done: int = 0
    failed: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def _delete_recordings_on_twilio(call_sids: list[str], result: Result) -> list[str]:
    """Delete the calls' recordings on Twilio; the calls whose recordings are all gone."""
    recordings = list(
        Recording.objects.filter(call_id__in=call_sids).values_list("call_id", "recording_sid")
    )
    for call_sid, recording_sid in recordings:
        if call_sid in result.failed:
            continue
        try:
            twilio_api.recording_delete(sid=recording_sid)
        except twilio_api.TwilioNotConfigured as error:
            # Said once, not once per call: none of them can be deleted.
            result.failed.update(call_sid for call_sid, _ in recordings)
            result.errors.append(error.message)
            break
        except twilio_api.TwilioError as error:
            result.failed.add(call_sid)
            result.errors.append(f"{call_sid}: {error.message}")
    return [sid for sid in call_sids if sid not in result.failed]


def _rows_naming_the_call() -> list[tuple[str, type]]:
    """(column, model) of every other app's rows that point at a call by its SID (a website
    visit's attribution, say): they follow the call to its new SID."""
    return [
        (relation.field.attname, relation.related_model)
        for relation in Call._meta.related_objects
        if relation.related_model not in (CallLeg, Recording)
        and relation.field.target_field.name == "call_sid"
    ]


def calls_anonymise(*, call_sids: list[str]) -> Result:
    """Keep the calls for the reports, without anything that identifies the caller."""
    result = Result()
    ready = _delete_recordings_on_twilio(call_sids, result)
    with transaction.atomic():
        Recording.objects.filter(call_id__in=ready).delete()
        for sid in ready:
            # The legs point at the call by its SID; the constraint is checked at commit.
            new_sid = f"{ANONYMISED_PREFIX}{uuid.uuid4().hex}"
            CallLeg.objects.filter(call_id=sid).update(call_id=new_sid, leg_sid="")
            for column, model in _rows_naming_the_call():
                model._base_manager.filter(**{column: sid}).update(**{column: new_sid})
            # Stamped, so API clients syncing changes erase their copies too (by the call's id).
            result.done += Call.objects.filter(call_sid=sid).update(
                call_sid=new_sid, updated_at=timezone.now(), **PERSONAL
            )
    return result


def calls_delete(*, call_sids: list[str]) -> Result:
    """Delete the calls, their legs and their recordings (on Twilio too)."""
    result = Result()
    ready = _delete_recordings_on_twilio(call_sids, result)
    with transaction.atomic():
        deleted = Call.objects.filter(call_sid__in=ready).delete()[1]
    result.done = deleted.get(Call._meta.label, 0)
    return result
