"""A call's page as a timeline: what happened, in order, in words, from the facts the webhooks
recorded (the call, each destination rung, the recordings)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse

from tracking.admin import display
from tracking.models import Call, CallLeg, Recording

Result = CallLeg.Result

LEG_RESULT_WORDS = {
    Result.ACCEPTED: "pressed the accept key and took the call",
    Result.REJECTED: "declined the call (pressed another key)",
    Result.NO_INPUT: "heard the whisper but pressed no key",
    Result.NO_ANSWER: "did not answer",
    Result.BUSY: "was busy",
    Result.FAILED: "could not be reached",
    Result.CANCELED: "stopped ringing (the caller hung up, or another phone took the call)",
    Result.PENDING: "was not rung",
}


@dataclass
class Event:
    at: datetime | None
    offset: str  # minutes:seconds since the call came in
    title: str
    detail: str = ""
    css: str = ""
    recording: Recording | None = None


# What another app did about a call, for its timeline: (when, title, detail, css) each.
Entries = Callable[[Call], Iterable[tuple[datetime | None, str, str, str]]]
_sources: list[Entries] = []


def register(source: Entries) -> None:
    """Add `source`'s entries to every call's timeline (conversions: its uploads to Google)."""
    if source not in _sources:
        _sources.append(source)


def _offset(call: Call, moment: datetime | None) -> str:
    if moment is None:
        return ""
    seconds = max(0, int((moment - call.started_at).total_seconds()))
    return f"+{seconds // 60}:{seconds % 60:02d}"


def timeline(call: Call, legs: list[CallLeg], recordings: list[Recording]) -> list[Event]:
    """The call's events in order; each one said once, in the admin's number format."""
    events: list[Event] = []

    def add(moment: datetime | None, title: str, detail: str = "", css: str = "", **extra) -> None:
        events.append(Event(moment, _offset(call, moment), title, detail, css, **extra))

    number = call.tracking_number
    dialled = number.label if number and number.label else display.phone(call.called_number)
    source = f"{call.campaign.name}, {dialled}" if call.campaign else "no campaign"
    caller = display.phone(call.caller_number)
    where = display.place(call.place)
    add(
        call.started_at,
        f"{caller} called {display.phone(call.called_number)}",
        f"{source}"
        + (f" · from {where}" if where else "")
        + (" · outside business hours" if call.after_hours else ""),
        "start",
    )
    if call.outcome == Call.Outcome.UNMATCHED:
        add(None, "Not a tracking number: the caller heard a short apology.", css="end")
    for leg in legs:
        phone = display.phone(leg.phone_number)
        who = f"{leg.label}, {phone}," if leg.label else phone
        if leg.result == Result.PENDING:
            add(
                None,
                f"{who} was not rung",
                "Another destination took the call first, or the call ended before its turn.",
                "leg leg-pending",
            )
            continue
        if leg.whispered_at:
            add(leg.whispered_at, f"{who} answered and heard the whisper", css="leg")
        words = LEG_RESULT_WORDS[leg.result]
        add(
            leg.decided_at or None,
            f"{who} {words}",
            css=f"leg leg-result-{leg.result}",
        )
    if call.answered_by:
        add(
            call.decided_at,
            f"Taken by {call.answered_by}",
            f"Talked {display.minutes_seconds(call.talk_seconds)}" if call.talk_seconds else "",
            "taken",
        )
    if call.voicemail_at:
        add(call.voicemail_at, "The caller heard the voicemail greeting", css="voicemail")
    for recording in recordings:
        kind = "Voicemail" if recording.kind == Recording.Kind.VOICEMAIL else "Recording"
        length = display.minutes_seconds(recording.duration_seconds)
        add(
            recording.created_at,
            f"{kind}, {length}",
            recording.transcription,
            "recording",
            recording=recording,
        )
    if call.ended_at:
        add(
            call.ended_at,
            f"Call ended: {call.get_outcome_display().lower()}",
            f"{display.minutes_seconds(call.duration_seconds)} in all"
            if call.duration_seconds
            else "",
            f"end ended-{call.outcome}",
        )
    elif call.outcome == Call.Outcome.IN_PROGRESS:
        add(None, "The call is still in progress", css="end")
    if call.notified_at:
        add(call.notified_at, "E-mail notice sent to the campaign's recipients", css="notice")
    if call.callback_done_at:
        add(
            call.callback_done_at,
            f"Marked as called back by {call.callback_done_by or 'someone'}",
            css="callback",
        )
    for source in _sources:
        for moment, title, detail, css in source(call):
            add(moment, title, detail, css)
    # Events without a time (legs never rung) keep their place; the others go in time order.
    return _in_order(events)


def _in_order(events: list[Event]) -> list[Event]:
    timed = sorted((e for e in events if e.at is not None), key=lambda e: e.at)
    ordered, it = [], iter(timed)
    for event in events:
        ordered.append(next(it) if event.at is not None else event)
    return ordered


def recording_url(recording: Recording) -> str:
    return reverse("admin:tracking_call_recording_audio", args=[recording.pk])
