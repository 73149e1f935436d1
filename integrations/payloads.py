"""The JSON each event carries (documented in README.md, "Webhooks"). Version 1.

Additions keep the version; a change that could break a receiver (a field renamed, removed or
given another meaning) makes version 2.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.urls import reverse

from tracking import leads
from tracking.models import Call, Recording
from tracking.notifications import RECORDING_GRACE

VERSION = 1

# How long call.completed waits, after the call ends (or after its message), for what Twilio
# reports later: the recording, the voicemail, its transcription.
COMPLETION_WAIT = RECORDING_GRACE

AttributionProvider = Callable[[Call], dict | None]
_attribution_providers: list[AttributionProvider] = []


def register_attribution(provider: AttributionProvider) -> None:
    """Let an app (website attribution) add what it knows of a call's source: `provider(call)`
    returns a JSON-able dict, or None when it knows nothing of that call."""
    if provider not in _attribution_providers:
        _attribution_providers.append(provider)


def attribution(call: Call) -> dict | None:
    for provider in _attribution_providers:
        found = provider(call)
        if found is not None:
            return found
    return None


def envelope(event_type: str, data: dict, at: datetime) -> dict:
    """The body: Standard Webhooks' {type, timestamp, data}, with our payload version."""
    return {"type": event_type, "timestamp": _iso(at), "version": VERSION, "data": data}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _routing(call: Call) -> dict:
    number = call.tracking_number
    campaign = call.campaign
    return {
        "id": call.call_sid,
        "started_at": _iso(call.started_at),
        "campaign": {"id": campaign.pk, "name": campaign.name} if campaign else None,
        "tracking_number": (
            {"id": number.pk, "phone_number": number.phone_number, "label": number.label}
            if number
            else None
        ),
        "called_number": call.called_number,
        "caller": {
            "phone_number": call.caller_number,
            "name": call.caller_name,
            "city": call.caller_city,
            "state": call.caller_state,
            "zip": call.caller_zip,
            "country": call.caller_country,
        },
        "after_hours": call.after_hours,
        "attribution": attribution(call),
        "admin_url": (
            settings.PUBLIC_BASE_URL + reverse("admin:tracking_call_change", args=[call.pk])
            if settings.PUBLIC_BASE_URL
            else None
        ),
    }


def call_started(call: Call) -> dict:
    """The call as routed: who called which number of which campaign, and whom it rings."""
    return {
        **_routing(call),
        "destinations": [
            {"position": leg.position, "label": leg.label, "phone_number": leg.phone_number}
            for leg in call.legs.all()
        ],
    }


def call_completed(call: Call) -> dict:
    """The whole call: outcome, each destination's result, times, recordings."""
    return {
        **_routing(call),
        "ended_at": _iso(call.ended_at),
        "outcome": call.outcome,
        "answered_by": call.answered_by,
        "talk_seconds": call.talk_seconds,
        "duration_seconds": call.duration_seconds,
        "destinations": [
            {
                "position": leg.position,
                "label": leg.label,
                "phone_number": leg.phone_number,
                "result": leg.result,
                "whispered_at": _iso(leg.whispered_at),
                "decided_at": _iso(leg.decided_at),
            }
            for leg in call.legs.all()
        ],
        "voicemail_at": _iso(call.voicemail_at),
        "recordings": [
            {
                "id": recording.recording_sid,
                "kind": recording.kind,
                "url": recording.url,
                "duration_seconds": recording.duration_seconds,
                "status": recording.status,
                "transcription": (
                    {"status": recording.transcription_status, "text": recording.transcription}
                    if recording.transcription_status or recording.transcription
                    else None
                ),
            }
            for recording in call.recordings.all()
        ],
        "spam": call.spam or None,
        "screening": {
            "stir_verstat": call.stir_verstat,
            "line_type": call.line_type,
            "reason": call.screening_reason,
            "challenge_passed": call.challenge_passed,
        },
        "lead": _lead(call),
        "tags": sorted(tag.name for tag in call.tags.all()),
    }


def _lead(call: Call) -> dict:
    result = leads.qualification(call)
    return {
        "qualified": result.qualified,
        "reasons": [{"passed": check.passed, "reason": check.reason} for check in result.checks],
        "value": str(result.value) if result.value is not None else None,
        "currency": result.currency or None,
    }


def changes(before: dict, after: dict) -> list[str]:
    """The top-level fields of a call's data that differ."""
    return sorted(name for name in after if before.get(name) != after.get(name))


def still_coming(call: Call) -> list[str]:
    """What Twilio has yet to report of an ended call: call.completed waits for it a while."""
    campaign = call.campaign
    recordings = list(call.recordings.all())
    owed = []
    if call.voicemail_at and not any(r.kind == Recording.Kind.VOICEMAIL for r in recordings):
        owed.append("voicemail")
    if campaign and campaign.voicemail_transcribe:
        if any(r.is_message and not r.transcription_status for r in recordings):
            owed.append("transcription")
    if (
        campaign
        and campaign.record_calls
        and call.outcome == Call.Outcome.ACCEPTED
        and not any(r.kind == Recording.Kind.CONVERSATION for r in recordings)
    ):
        owed.append("recording")
    return owed


def completion_deadline(call: Call) -> datetime:
    """call.completed goes out by then, whatever is still coming."""
    latest = max(
        [call.ended_at, *(r.created_at for r in call.recordings.all())],
        default=call.ended_at,
    )
    return latest + COMPLETION_WAIT


def ping_data(at: datetime) -> dict:
    return {"message": "A test event sent from the admin.", "sent_at": _iso(at)}
