"""E-mails to a campaign's recipients about voicemails and missed calls.

A notice is sent at most once per call: a conditional UPDATE of `Call.notified_at` claims the
call before sending, so a retried webhook, a replayed event and the `send_notifications` sweep
never send it twice. A send that fails is logged and gives the claim back, for the sweep to try
again; it never touches anything else on the call. (A process killed between the claim and the
send loses that notice: once is better than twice.)

The services queue a job (`tracking.tasks.notify_call`, which runs `notify_if_due`) with each
write that may make a notice due; what only time makes due is sent by the sweep, a periodic job
the worker runs every few minutes (jobs/schedule.py):
1. A voicemail is due once its message is reported, or, when the campaign transcribes
   messages, once the transcription is reported or RECORDING_GRACE after the message.
2. A missed call is due once the call has ended, or, when the caller was offered voicemail,
   RECORDING_GRACE after it ended (a message may still be reported until then).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from tracking import hours, phones
from tracking.models import MISSED_OUTCOMES, Call, Recording

logger = logging.getLogger(__name__)

# How long Twilio gets to report a voicemail (after the call ends) or its transcription (after
# the message) before the notice goes without it.
RECORDING_GRACE = timedelta(minutes=5)

# Calls the sweep looks back over: how long a notice is retried while mail is failing.
SWEEP_LOOKBACK = timedelta(days=2)


def due(call: Call, now: datetime | None = None) -> str | None:
    """ "voicemail", "missed" or None: the notice `call` is owed at `now`."""
    if call.notified_at is not None or call.campaign is None or not call.campaign.recipients:
        return None
    now = now or timezone.now()
    if call.outcome == Call.Outcome.VOICEMAIL:
        messages = [recording for recording in call.recordings.all() if recording.is_message]
        waiting = call.campaign.voicemail_transcribe and not any(
            message.transcription_status for message in messages
        )
        recorded = max((message.created_at for message in messages), default=call.voicemail_at)
        if waiting and now - recorded < RECORDING_GRACE:
            return None
        return "voicemail"
    if call.ended_at is None or not call.is_missed:
        return None
    if call.voicemail_at is not None and now - call.ended_at < RECORDING_GRACE:
        return None
    return "missed"


def notify_if_due(call_id: int, now: datetime | None = None) -> bool:
    """Send the notice `call_id` is owed at `now`, if any; True when one was sent."""
    call = (
        Call.objects.select_related("campaign", "tracking_number")
        .prefetch_related("recordings", "legs")
        .filter(pk=call_id)
        .first()
    )
    kind = due(call, now) if call else None
    if kind is None:
        return False
    claimed_at = timezone.now()
    if not Call.objects.filter(pk=call.pk, notified_at=None).update(notified_at=claimed_at):
        return False
    try:
        subject, body = _message(call, kind)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, call.campaign.recipients)
    except Exception:
        logger.exception("Could not e-mail the %s notice of call %s", kind, call.call_sid)
        Call.objects.filter(pk=call.pk, notified_at=claimed_at).update(notified_at=None)
        return False
    logger.info("E-mailed the %s notice of call %s", kind, call.call_sid)
    return True


def sweep(now: datetime | None = None, lookback: timedelta = SWEEP_LOOKBACK) -> int:
    """Send every notice still owed by calls that started within `lookback`; the number sent."""
    now = now or timezone.now()
    candidates = (
        Call.objects.filter(
            notified_at=None,
            started_at__gte=now - lookback,
            campaign__isnull=False,
            outcome__in=[Call.Outcome.VOICEMAIL, *MISSED_OUTCOMES],
        )
        .exclude(campaign__notify_emails="")
        .select_related("campaign")
        .prefetch_related("recordings")
        .order_by("started_at")
    )
    return sum(notify_if_due(call.pk, now) for call in candidates if due(call, now))


def _message(call: Call, kind: str) -> tuple[str, str]:
    """The subject and plain-text body of the `kind` notice of `call`."""
    campaign = call.campaign
    caller = phones.national(call.caller_number) if call.caller_number else "an unknown caller"
    place = call.place.spoken
    called = (
        str(call.tracking_number) if call.tracking_number else phones.national(call.called_number)
    )
    when = call.started_at.astimezone(hours.zone(campaign.time_zone))
    happened = call.get_outcome_display() + (" (after hours)" if call.after_hours else "")
    lines = [
        f"Campaign: {campaign.name}",
        f"Caller: {caller}" + (f" ({place})" if place else ""),
        *([f"Caller name: {call.caller_name}"] if call.caller_name else []),
        f"Called: {called}",
        f"When: {when:%Y-%m-%d %H:%M %Z}",
        f"What happened: {happened}",
    ]
    legs = [
        f"{leg.label or leg.phone_number} ({leg.get_result_display()})" for leg in call.legs.all()
    ]
    if legs:
        lines.append("Destinations: " + ", ".join(legs))
    if kind == "voicemail":
        subject = f"New voicemail from {caller} ({campaign.name})"
        messages = [r for r in call.recordings.all() if r.kind == Recording.Kind.VOICEMAIL]
        message = max(messages, key=lambda recording: recording.created_at, default=None)
        if message is not None:
            lines.append(f"Length: {message.duration_seconds or 0} seconds")
            if message.transcription:
                lines += ["", "Transcription:", message.transcription]
    else:
        subject = f"Missed call from {caller} ({campaign.name})"
        if call.voicemail_at is not None:
            lines.append("Voicemail: offered, no message left")
    if settings.PUBLIC_BASE_URL:
        link = settings.PUBLIC_BASE_URL + reverse("admin:tracking_call_change", args=[call.pk])
        lines += ["", f"See the call: {link}"]
    # A header cannot hold a line break (send_mail refuses it): Twilio's values are not ours.
    return " ".join(subject.split()), "\n".join(lines) + "\n"
