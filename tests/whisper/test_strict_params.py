"""Twilio's numbers and text, and our own query parameters, are read by one strict helper:
digits that are not ASCII ("²", which `str.isdigit` accepts and `int` refuses) read as
missing, and NUL bytes (which PostgreSQL refuses in text) are dropped, so no event is lost."""

from __future__ import annotations

import pytest

from tests.twilio_signing import path_of, twiml
from tests.whisper.steps import (
    answered,
    dial_done,
    incoming,
    pressed,
    recorded,
    status,
    transcribed,
)
from tracking.models import Call, Campaign, Recording
from whisper.params import TwilioParams, whole_number


@pytest.mark.parametrize(
    ("value", "number"),
    [("7", 7), (" 12 ", 12), ("²", None), ("١", None), ("-5", None), ("1e3", None), ("", None)],
)
def test_only_ascii_digits_make_a_number(value, number):
    assert whole_number(value, maximum=100) == number


def test_text_loses_nul_and_control_characters_but_keeps_its_words(rf):
    params = TwilioParams(rf.post("/", {"T": "Call me\x00 back\nsoon\x07"}).POST)

    assert params.text("T") == "Call me back soon"


def _with_query(path: str, **changes: str) -> str:
    base, _, query = path.partition("?")
    pairs = dict(part.split("=", 1) for part in query.split("&"))
    pairs.update(changes)
    return base + "?" + "&".join(f"{name}={value}" for name, value in pairs.items())


@pytest.mark.django_db
def test_a_key_press_with_a_strange_leg_still_counts(twilio, number):
    whisper = answered(twilio, incoming(twilio))
    action = _with_query(path_of(whisper.find("Gather").get("action")), leg="%C2%B2")

    reply = twiml(twilio.post(action, {"CallSid": "CA200", "Digits": "1"}))

    assert list(reply) == []  # bridged
    assert Call.objects.get().decision == Call.Decision.ACCEPTED


@pytest.mark.django_db
def test_a_dial_action_with_strange_legs_and_count_is_answered_and_recorded(twilio, number):
    first = incoming(twilio)
    pressed(twilio, answered(twilio, first), "2")
    action = _with_query(path_of(first.find("Dial").get("action")), legs="%C2%B2", of="%C2%B2")

    reply = twiml(
        twilio.post(
            action, {"CallSid": "CA100", "DialCallStatus": "completed", "DialBridged": "false"}
        )
    )

    assert reply.find("Say") is not None  # the missed-call message
    assert Call.objects.get().dial_status == "completed"


@pytest.mark.django_db
def test_a_strange_duration_keeps_the_status_event(twilio, number):
    incoming(twilio)

    status(twilio, CallDuration="²")

    call = Call.objects.get()
    assert (call.call_status, call.duration_seconds) == ("completed", None)
    assert call.ended_at is not None


@pytest.mark.django_db
def test_a_nul_in_the_call_parameter_does_not_lose_the_event(twilio, number):
    first = incoming(twilio)
    url = _with_query(path_of(first.find("Dial/Number").get("url")), call="CA%00100")

    twiml(twilio.post(url, {"CallSid": "CA200", "CallStatus": "in-progress"}))

    assert Call.objects.get().dial_call_sid == "CA200"


@pytest.mark.django_db
def test_a_nul_in_a_transcription_is_dropped_and_the_text_kept(twilio, number):
    Campaign.objects.filter(pk=number.campaign_id).update(
        voicemail_enabled=True, voicemail_transcribe=True
    )
    first = incoming(twilio)
    pressed(twilio, answered(twilio, first), "2")
    voicemail = dial_done(twilio, first, DialCallStatus="completed", DialBridged="false")
    recorded(twilio, voicemail)

    transcribed(twilio, voicemail, "Please call\x00 me back.")

    assert Recording.objects.get().transcription == "Please call me back."
