"""Writes to the call log, one function per thing Twilio tells us about a call.

Every function is keyed by the parent leg's CallSid and safe to run twice or out of order:
facts are recorded once (the first report wins) and the outcome is re-derived from all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tracking.models import DEFAULT_ACCEPT_DIGIT, Call

# Parent-leg statuses after which the call is over.
FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


@dataclass(frozen=True)
class IncomingCall:
    sid: str
    called: str
    caller: str
    caller_name: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""


def _fit(field: str, value: str) -> str:
    """Cut a value to its column: Twilio's values are short, hostile ones need not be."""
    return value[: Call._meta.get_field(field).max_length]


def call_start(
    *,
    call: IncomingCall,
    number_id: int | None,
    campaign_id: int | None,
    destination: str,
    at: datetime | None = None,
) -> None:
    """Log a new call to the number (None: unmatched) it reached.

    A retried webhook inserts nothing: the row is keyed by CallSid and conflicts are ignored.
    """
    if not call.sid:
        return
    row = Call(
        call_sid=_fit("call_sid", call.sid),
        tracking_number_id=number_id,
        campaign_id=campaign_id,
        called_number=_fit("called_number", call.called),
        caller_number=_fit("caller_number", call.caller),
        caller_name=_fit("caller_name", call.caller_name),
        caller_city=_fit("caller_city", call.city),
        caller_state=_fit("caller_state", call.state),
        caller_zip=_fit("caller_zip", call.zip),
        caller_country=_fit("caller_country", call.country),
        forwarded_to=_fit("forwarded_to", destination),
        started_at=at or timezone.now(),
        outcome=Call.Outcome.IN_PROGRESS if number_id else Call.Outcome.UNMATCHED,
    )
    Call.objects.bulk_create([row], ignore_conflicts=True)


def _locked(sid: str) -> Call:
    """The call's row, locked until the transaction ends; Call.DoesNotExist if not logged (yet)."""
    # Lock the call row only: its campaign is read, never written, here.
    return Call.objects.select_for_update(of=("self",)).select_related("campaign").get(call_sid=sid)


def _apply(call: Call, **facts: object) -> Call:
    """Record facts not yet known (a retry never rewrites one) and re-derive the outcome."""
    changed = []
    for field, value in facts.items():
        if value is None or value == "":
            continue
        if getattr(call, field) is None or getattr(call, field) == "":
            setattr(call, field, value)
            changed.append(field)
    outcome = call.derive_outcome()
    if outcome != call.outcome:
        call.outcome = outcome
        changed.append("outcome")
    if changed:
        call.save(update_fields=[*changed, "updated_at"])
    return call


def call_whispered(*, sid: str, dial_call_sid: str, at: datetime | None = None) -> Call:
    """The callee picked up and is about to hear the whisper."""
    with transaction.atomic():
        call = _locked(sid)
        return _apply(
            call,
            whispered_at=at or timezone.now(),
            dial_call_sid=_fit("dial_call_sid", dial_call_sid),
        )


def call_decided(*, sid: str, digits: str, at: datetime | None = None) -> Call:
    """The callee pressed a key (or none) after the whisper; the first answer stands."""
    with transaction.atomic():
        call = _locked(sid)
        accept = call.campaign.accept_digit if call.campaign else DEFAULT_ACCEPT_DIGIT
        if digits == "":
            decision = Call.Decision.NO_INPUT
        elif digits[:1] == accept:
            decision = Call.Decision.ACCEPTED
        else:
            decision = Call.Decision.REJECTED
        return _apply(call, decision=decision, decided_at=at or timezone.now())


def call_dial_finished(
    *,
    sid: str,
    dial_status: str,
    dial_call_sid: str,
    bridged: bool | None,
    talk_seconds: int | None,
) -> Call:
    """The <Dial> to the business ended; Twilio asks what the caller hears next."""
    with transaction.atomic():
        call = _locked(sid)
        return _apply(
            call,
            dial_status=_fit("dial_status", dial_status),
            dial_call_sid=_fit("dial_call_sid", dial_call_sid),
            dial_bridged=bridged,
            talk_seconds=talk_seconds,
        )


def call_status_changed(
    *, sid: str, call_status: str, duration_seconds: int | None, at: datetime | None
) -> Call | None:
    """The parent leg's status callback; only its final statuses change the row."""
    if call_status not in FINAL_CALL_STATUSES:
        return None
    with transaction.atomic():
        call = _locked(sid)
        return _apply(
            call,
            call_status=call_status,
            duration_seconds=duration_seconds,
            ended_at=at or timezone.now(),
        )
