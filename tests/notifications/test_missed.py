"""A call nobody took is e-mailed as missed once it has ended; other calls are not e-mailed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from tests.notifications.conftest import RECIPIENTS, fields, to_voicemail
from tests.whisper.steps import answered, dial_done, incoming, pressed, recorded, status
from tracking import notifications
from tracking.models import Call

pytestmark = pytest.mark.django_db(transaction=True)


def _day_later() -> int:
    return notifications.sweep(now=Call.objects.get().started_at + timedelta(days=1))


@pytest.mark.parametrize(
    ("digits", "dial", "outcome", "destination"),
    [
        ("7", "completed", "Rejected", "Front desk (Declined)"),
        ("", "completed", "No response", "Front desk (No key pressed)"),
        (None, "no-answer", "No answer", "Front desk (No answer)"),
        (None, "busy", "Busy", "Front desk (Busy)"),
    ],
)
def test_it_emails_a_missed_call_once_when_the_call_ends(
    twilio, no_voicemail, digits, dial, outcome, destination
):
    response = incoming(twilio)
    if digits is not None:
        pressed(twilio, answered(twilio, response), digits)
    dial_done(twilio, response, DialCallStatus=dial, DialBridged="false")
    assert mail.outbox == [], "the call has not ended yet"

    status(twilio)
    status(twilio)
    assert _day_later() == 0

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == RECIPIENTS
    assert message.subject == "Missed call from (312) 555-0123 (Spring Billboard)"
    assert fields(message)["What happened"] == outcome
    assert fields(message)["Destinations"] == destination
    assert "Voicemail" not in fields(message)
    assert Call.objects.get().notified_at is not None


def test_it_emails_a_caller_who_hung_up_while_it_rang(twilio, notified):
    incoming(twilio)

    status(twilio, CallDuration="9")

    assert [fields(message)["What happened"] for message in mail.outbox] == ["Abandoned"]


def test_it_sends_nothing_for_an_accepted_call(twilio, notified):
    response = incoming(twilio)
    pressed(twilio, answered(twilio, response), "1")
    dial_done(
        twilio, response, DialCallStatus="completed", DialBridged="true", DialCallDuration="42"
    )
    status(twilio)

    assert _day_later() == 0
    assert mail.outbox == []
    assert Call.objects.get().outcome == Call.Outcome.ACCEPTED
    assert Call.objects.get().notified_at is None


@pytest.mark.parametrize("voicemail", [True, False])
def test_it_sends_nothing_for_a_campaign_without_recipients(twilio, notified, voicemail):
    notified.campaign.notify_emails = ""
    notified.campaign.voicemail_enabled = voicemail
    notified.campaign.save()
    response = to_voicemail(twilio)
    if voicemail:
        recorded(twilio, response)
    status(twilio)

    assert _day_later() == 0
    assert mail.outbox == []
    call = Call.objects.get()
    assert call.outcome == (Call.Outcome.VOICEMAIL if voicemail else Call.Outcome.NO_ANSWER)
    assert call.notified_at is None


def test_it_sends_nothing_for_a_call_to_an_unknown_number(twilio, notified):
    incoming(twilio, To="+15125550111")
    status(twilio)

    assert _day_later() == 0
    assert mail.outbox == []


def test_a_hostile_caller_number_cannot_add_mail_headers(twilio, no_voicemail):
    incoming(twilio, From="+1312\r\nBcc: thief@example.net")
    status(twilio)

    [message] = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.bcc == []
    assert message.message()["Bcc"] is None
    assert Call.objects.get().notified_at is not None
