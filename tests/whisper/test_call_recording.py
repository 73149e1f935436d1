"""Recording the conversation, with a notice to the caller first where the campaign wants one."""

from __future__ import annotations

import pytest

from tests.twilio_signing import path_of
from tests.whisper.steps import answered, dial_done, incoming, pressed, recording_ready, status
from tracking.models import Call, Campaign, Recording


@pytest.mark.django_db
def test_calls_are_not_recorded_unless_the_campaign_says_so(twilio, number):
    response = incoming(twilio)

    assert [el.tag for el in response] == ["Dial"]
    assert response.find("Dial").get("record") is None


@pytest.mark.django_db
def test_a_recorded_call_tells_the_caller_first_and_records_from_the_answer(twilio, number):
    Campaign.objects.filter(pk=number.campaign_id).update(record_calls=True)

    response = incoming(twilio)

    assert [el.tag for el in response] == ["Say", "Dial"]
    assert response.find("Say").text == (
        "This call may be recorded for quality and training purposes."
    )
    dial = response.find("Dial")
    assert dial.get("record") == "record-from-answer-dual"
    assert path_of(dial.get("recordingStatusCallback")) == (
        "/twilio/voice/recording/?call=CA100&to=%2B15125550100&kind=conversation"
    )
    assert dial.get("recordingStatusCallbackEvent") == "completed"


@pytest.mark.django_db
def test_without_a_notice_the_dial_comes_first(twilio, number):
    Campaign.objects.filter(pk=number.campaign_id).update(record_calls=True, recording_notice="")

    response = incoming(twilio)

    assert [el.tag for el in response] == ["Dial"]
    assert response.find("Dial").get("record") == "record-from-answer-dual"


@pytest.mark.django_db
def test_the_next_destination_is_recorded_too_without_a_second_notice(twilio, number):
    Campaign.objects.filter(pk=number.campaign_id).update(record_calls=True)
    number.campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")
    first = incoming(twilio)

    second = dial_done(twilio, first, DialCallStatus="no-answer", DialBridged="false")

    assert [el.tag for el in second] == ["Dial"]
    assert second.find("Dial").get("record") == "record-from-answer-dual"


@pytest.mark.django_db
def test_the_conversation_recording_is_listed_on_the_call(twilio, number):
    Campaign.objects.filter(pk=number.campaign_id).update(record_calls=True)
    response = incoming(twilio)
    pressed(twilio, answered(twilio, response), "1")
    dial_done(twilio, response, DialCallStatus="completed", DialBridged="true")
    status(twilio)
    callback = response.find("Dial").get("recordingStatusCallback")

    for _ in range(2):
        recording_ready(twilio, callback, seconds=95, recording_sid="RE" + "b" * 32)

    call = Call.objects.get()
    [recording] = call.recordings.all()
    assert (recording.kind, recording.duration_seconds) == (Recording.Kind.CONVERSATION, 95)
    assert call.outcome == Call.Outcome.ACCEPTED, "a recorded conversation is not a voicemail"
