"""Voicemail: when nobody takes the call, the caller leaves a message."""

from __future__ import annotations

import pytest

from tests.twilio_signing import path_of
from tests.whisper.steps import (
    RECORDING_SID,
    RECORDING_URL,
    answered,
    dial_done,
    incoming,
    pressed,
    recorded,
    recording_ready,
    status,
    transcribed,
)
from tracking import events
from tracking.models import Call, Campaign, Recording


@pytest.fixture
def voicemail(number):
    Campaign.objects.filter(pk=number.campaign_id).update(
        voicemail_enabled=True, voicemail_max_seconds=90
    )
    return number


def _to_voicemail(twilio):
    first = incoming(twilio)
    pressed(twilio, answered(twilio, first), "2")
    return dial_done(twilio, first, DialCallStatus="completed", DialBridged="false")


@pytest.mark.django_db
def test_a_declined_call_goes_to_voicemail(twilio, voicemail):
    response = _to_voicemail(twilio)

    assert [el.tag for el in response] == ["Say", "Record"]
    assert response.find("Say").text.startswith("Sorry, nobody can take your call right now.")
    record = response.find("Record")
    assert record.get("maxLength") == "90"
    assert record.get("finishOnKey") == "#"
    assert record.get("playBeep") == "true"
    assert path_of(record.get("action")) == "/twilio/voice/voicemail/?call=CA100&to=%2B15125550100"
    assert path_of(record.get("recordingStatusCallback")) == (
        "/twilio/voice/recording/?call=CA100&to=%2B15125550100&kind=voicemail"
    )
    assert record.get("transcribe") is None
    assert Call.objects.get().voicemail_at is not None


@pytest.mark.django_db
def test_a_greeting_recording_is_played_instead_of_the_text(twilio, voicemail):
    Campaign.objects.filter(pk=voicemail.campaign_id).update(
        voicemail_audio_url="https://example.com/greeting.mp3"
    )

    response = _to_voicemail(twilio)

    assert [el.tag for el in response] == ["Play", "Record"]
    assert response.find("Play").text == "https://example.com/greeting.mp3"


@pytest.mark.django_db
def test_a_message_is_stored_once_from_the_action_and_the_callback_and_retries(twilio, voicemail):
    response = _to_voicemail(twilio)
    callback = response.find("Record").get("recordingStatusCallback")

    for _ in range(2):
        thanks = recorded(twilio, response, seconds=14)
        recording_ready(twilio, callback, seconds=14)
    status(twilio)

    assert [el.tag for el in thanks] == ["Say", "Hangup"]
    assert thanks.find("Say").text == "Thank you for your message. Goodbye."
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.VOICEMAIL
    [message] = call.recordings.all()
    assert (message.recording_sid, message.kind, message.url) == (
        RECORDING_SID,
        Recording.Kind.VOICEMAIL,
        RECORDING_URL,
    )
    assert (message.duration_seconds, message.status) == (14, "completed")
    assert call.legs.get().result == "rejected", "the destination's own answer is kept"


@pytest.mark.django_db
def test_the_recording_callback_may_come_first(twilio, voicemail):
    response = _to_voicemail(twilio)
    recording_ready(twilio, response.find("Record").get("recordingStatusCallback"), seconds=9)
    status(twilio)
    recorded(twilio, response, seconds=9)

    call = Call.objects.get()
    assert call.outcome == Call.Outcome.VOICEMAIL
    assert call.recordings.get().duration_seconds == 9


@pytest.mark.django_db
def test_a_caller_who_leaves_no_message_is_not_a_voicemail(twilio, voicemail):
    response = _to_voicemail(twilio)
    recording_ready(
        twilio, response.find("Record").get("recordingStatusCallback"), seconds=0, status="absent"
    )
    status(twilio)

    call = Call.objects.get()
    assert call.outcome == Call.Outcome.REJECTED
    assert call.voicemail_at is not None


@pytest.mark.django_db
def test_a_caller_who_hangs_up_during_the_greeting_is_still_logged(twilio, voicemail):
    _to_voicemail(twilio)
    status(twilio)

    call = Call.objects.get()
    assert call.outcome == Call.Outcome.REJECTED
    assert call.recordings.count() == 0


@pytest.mark.django_db
def test_a_transcription_is_stored_on_the_message_even_before_it(twilio, voicemail):
    Campaign.objects.filter(pk=voicemail.campaign_id).update(voicemail_transcribe=True)
    response = _to_voicemail(twilio)
    record = response.find("Record")
    assert record.get("transcribe") == "true"
    assert path_of(record.get("transcribeCallback")) == (
        "/twilio/voice/transcription/?call=CA100&to=%2B15125550100"
    )

    # Twilio's text of the message may overtake the message itself: it waits in the spool.
    transcribed(twilio, response, "Hi, please call me back about the quote.")
    assert len(events.pending()) == 1
    recorded(twilio, response, seconds=6)
    events.drain()

    message = Recording.objects.get()
    assert message.transcription == "Hi, please call me back about the quote."
    assert message.transcription_status == "completed"


@pytest.mark.django_db
def test_after_the_last_destination_voicemail_follows(twilio, voicemail):
    voicemail.campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")
    first = incoming(twilio)
    second = dial_done(twilio, first, DialCallStatus="no-answer", DialBridged="false")
    assert second[0].tag == "Dial", "voicemail waits until every destination has rung"

    last = dial_done(twilio, second, DialCallStatus="busy", DialBridged="false")

    assert [el.tag for el in last] == ["Say", "Record"]


@pytest.mark.django_db
def test_an_accepted_call_never_reaches_voicemail(twilio, voicemail):
    first = incoming(twilio)
    pressed(twilio, answered(twilio, first), "1")

    after = dial_done(twilio, first, DialCallStatus="completed", DialBridged="true")

    assert [el.tag for el in after] == ["Hangup"]
    assert Call.objects.get().voicemail_at is None
