"""A message left in voicemail is e-mailed to the campaign's recipients, once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail

from tests.notifications.conftest import RECIPIENTS, fields, local_minute, sections, to_voicemail
from tests.twilio_signing import TwilioPoster
from tests.whisper.steps import recorded, recording_ready, status, transcribed
from tracking import notifications
from tracking.models import Call, Recording

pytestmark = pytest.mark.django_db(transaction=True)


def _callback(response) -> str:
    return response.find("Record").get("recordingStatusCallback")


@pytest.mark.parametrize("action_first", [True, False])
def test_it_emails_a_voicemail_once_however_often_twilio_reports_it(twilio, notified, action_first):
    response = to_voicemail(twilio)
    assert mail.outbox == [], "nothing to tell while the caller hears the greeting"

    reports = [
        lambda: recorded(twilio, response),
        lambda: recording_ready(twilio, _callback(response)),
    ]
    for report in reports if action_first else reports[::-1]:
        report()
        report()
    status(twilio)
    status(twilio)
    notifications.sweep(now=Call.objects.get().ended_at + timedelta(days=1))

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == RECIPIENTS
    assert mail.outbox[0].subject == "New voicemail from (312) 555-0123 (Spring Billboard)"
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.VOICEMAIL
    assert call.notified_at is not None


def test_it_sends_the_voicemail_as_soon_as_twilio_has_the_message(twilio, notified):
    response = to_voicemail(twilio)

    recorded(twilio, response, seconds=14)
    assert mail.outbox == [], "the caller is still listening: no mail server holds them up"
    recording_ready(twilio, _callback(response), seconds=14)

    assert len(mail.outbox) == 1, "no need to wait for the end of the call"
    message = mail.outbox[0]
    call = Call.objects.get()
    assert message.from_email == "calls@localhost"
    assert fields(message) == {
        "Campaign": "Spring Billboard",
        "Caller": "(312) 555-0123 (Austin, Texas)",
        "Called": "(512) 555-0100 (I-35 billboard)",
        "When": fields(message)["When"],
        "What happened": "Voicemail",
        "Destinations": "Front desk (No answer)",
        "Length": "14 seconds",
    }
    when, zone = fields(message)["When"].rsplit(" ", 1)
    assert datetime.strptime(when, "%Y-%m-%d %H:%M") == local_minute(call)
    assert zone in {"CST", "CDT"}, "read by the campaign's clock (America/Chicago)"


def test_it_links_to_the_call_when_the_site_address_is_known(client, notified, settings):
    settings.PUBLIC_BASE_URL = "https://calls.example.com"
    twilio = TwilioPoster(client, base="https://calls.example.com")
    response = to_voicemail(twilio)
    recorded(twilio, response)
    recording_ready(twilio, _callback(response))

    call = Call.objects.get()
    assert sections(mail.outbox[0])[-1] == [
        f"See the call: https://calls.example.com/admin/tracking/call/{call.pk}/change/"
    ]


def test_it_waits_for_the_transcription_and_sends_its_text(twilio, notified):
    notified.campaign.voicemail_transcribe = True
    notified.campaign.save()
    response = to_voicemail(twilio)
    assert response.find("Record").get("transcribe") == "true"

    recorded(twilio, response)
    recording_ready(twilio, _callback(response))
    status(twilio)
    assert mail.outbox == [], "the transcription is on its way"
    assert Call.objects.get().notified_at is None

    transcribed(twilio, response, "Hi, this is Dana. Please call me back about the quote.")
    transcribed(twilio, response, "Hi, this is Dana. Please call me back about the quote.")

    assert len(mail.outbox) == 1
    assert sections(mail.outbox[0])[1:] == [
        ["Transcription:", "Hi, this is Dana. Please call me back about the quote."]
    ]
    assert fields(mail.outbox[0])["Length"] == "14 seconds"


def test_it_sends_a_voicemail_whose_transcription_failed_without_text(twilio, notified):
    notified.campaign.voicemail_transcribe = True
    notified.campaign.save()
    response = to_voicemail(twilio)
    recorded(twilio, response)

    reply = twilio.post(
        "/twilio/voice/transcription/?call=CA100&to=%2B15125550100",
        {
            "CallSid": "CA100",
            "RecordingSid": Recording.objects.get().recording_sid,
            "TranscriptionStatus": "failed",
        },
    )

    assert reply.status_code == 204
    assert len(mail.outbox) == 1
    assert len(sections(mail.outbox[0])) == 1, "no transcription paragraph"


def test_it_stops_waiting_for_a_transcription_that_never_comes(twilio, notified):
    notified.campaign.voicemail_transcribe = True
    notified.campaign.save()
    response = to_voicemail(twilio)
    recorded(twilio, response)
    status(twilio)
    message_at = Recording.objects.get().created_at

    assert notifications.sweep(now=message_at + timedelta(minutes=4)) == 0
    assert mail.outbox == []

    assert notifications.sweep(now=message_at + timedelta(minutes=6)) == 1
    assert notifications.sweep(now=message_at + timedelta(minutes=7)) == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("New voicemail from")
    assert len(sections(mail.outbox[0])) == 1

    transcribed(twilio, response, "Too late to be e-mailed.")
    assert len(mail.outbox) == 1
