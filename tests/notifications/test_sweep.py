"""`send_notifications`: the notices only time makes due, sent by cron, never twice."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from tests.notifications.conftest import fields, to_voicemail
from tests.whisper.steps import recorded, recording_ready, status
from tracking import notifications
from tracking.models import Call

pytestmark = pytest.mark.django_db(transaction=True)


def _send_notifications() -> str:
    out = io.StringIO()
    call_command("send_notifications", stdout=out)
    return out.getvalue().strip()


def test_it_reports_a_caller_who_left_no_message_only_after_the_grace(twilio, notified):
    response = to_voicemail(twilio)
    status(twilio)
    ended = Call.objects.get().ended_at
    assert mail.outbox == [], "a message may still be reported"
    assert _send_notifications() == "sent 0 notifications"

    assert notifications.sweep(now=ended + timedelta(minutes=4)) == 0
    assert mail.outbox == []
    assert notifications.sweep(now=ended + timedelta(minutes=6)) == 1
    assert notifications.sweep(now=ended + timedelta(minutes=7)) == 0
    assert notifications.sweep(now=ended + timedelta(hours=3)) == 0
    status(twilio)
    recording_ready(
        twilio, response.find("Record").get("recordingStatusCallback"), seconds=0, status="absent"
    )

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Missed call from (312) 555-0123 (Spring Billboard)"
    assert fields(message)["What happened"] == "No answer"
    assert fields(message)["Voicemail"] == "offered, no message left"
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.NO_ANSWER
    assert call.notified_at is not None


def test_a_message_reported_after_the_call_ended_is_sent_as_a_voicemail(twilio, notified):
    response = to_voicemail(twilio)
    status(twilio)

    recorded(twilio, response)
    notifications.sweep(now=Call.objects.get().ended_at + timedelta(minutes=10))

    assert [message.subject.split(" from ")[0] for message in mail.outbox] == ["New voicemail"]


def test_two_sweeps_at_once_send_one_notice(twilio, notified):
    to_voicemail(twilio)
    status(twilio)
    later = Call.objects.get().ended_at + timedelta(minutes=6)
    call = Call.objects.get()

    # Both sweeps found the call owing a notice; only the first claims it.
    assert notifications.due(call, later) == "missed"
    assert notifications.notify_if_due(call.pk, later) is True
    assert notifications.notify_if_due(call.pk, later) is False
    assert len(mail.outbox) == 1


def test_it_leaves_calls_older_than_its_lookback_alone(twilio, notified):
    to_voicemail(twilio)
    status(twilio)

    later = Call.objects.get().started_at + notifications.SWEEP_LOOKBACK + timedelta(minutes=1)
    assert notifications.sweep(now=later) == 0
    assert mail.outbox == []
