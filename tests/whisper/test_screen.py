"""The whisper the callee hears, and the key they press."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.whisper.steps import answered, incoming, pressed
from tracking.models import Call, Campaign


def _said(whisper) -> str:
    return whisper.find("Gather/Say").text


@pytest.mark.django_db
def test_the_callee_hears_the_campaign_and_the_callers_place(twilio, number):
    whisper = answered(twilio, incoming(twilio))

    assert [el.tag for el in whisper] == ["Gather", "Hangup"], "silence must never bridge"
    gather = whisper.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("actionOnEmptyResult") == "true"
    assert (
        gather.get("action")
        == "http://testserver/twilio/voice/whisper/decide/?call=CA100&to=%2B15125550100&leg=0"
    )
    say = gather.find("Say")
    assert say.text == (
        "Call from Spring Billboard, caller in Austin, Texas. "
        "Press 1 to accept, or any other key to decline."
    )
    assert say.get("voice") == "Polly.Joanna"
    assert say.get("language") == "en-US"
    call = Call.objects.get()
    assert call.whispered_at is not None
    assert call.dial_call_sid == "CA200"
    assert call.outcome == Call.Outcome.IN_PROGRESS
    leg = call.legs.get()
    assert (leg.leg_sid, leg.whispered_at) == ("CA200", call.whispered_at)


@pytest.mark.django_db
def test_the_place_is_left_out_when_the_campaign_does_not_announce_it(twilio, number):
    Campaign.objects.update(announce_location=False)

    whisper = answered(twilio, incoming(twilio))

    assert _said(whisper).startswith("Call from Spring Billboard. Press 1")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "heard"),
    [
        ({"FromCity": "", "FromState": "", "FromZip": ""}, "Call from Spring Billboard. Press"),
        ({"FromCity": ""}, "Call from Spring Billboard, caller in Texas. Press"),
        ({"FromState": ""}, "Call from Spring Billboard, caller in Austin. Press"),
    ],
)
def test_missing_place_parts_leave_no_gaps(twilio, number, params, heard):
    whisper = answered(twilio, incoming(twilio, **params))

    assert _said(whisper).startswith(heard)
    assert "None" not in _said(whisper)


@pytest.mark.django_db
def test_the_campaigns_words_voice_and_key_are_used(twilio, number):
    Campaign.objects.update(
        whisper_template="Lead from {campaign} ({city}, {state})",
        accept_digit="9",
        whisper_voice="Polly.Matthew",
        whisper_language="en-GB",
    )

    say = answered(twilio, incoming(twilio)).find("Gather/Say")

    assert say.text == (
        "Lead from Spring Billboard (Austin, Texas). "
        "Press 9 to accept, or any other key to decline."
    )
    assert (say.get("voice"), say.get("language")) == ("Polly.Matthew", "en-GB")


@pytest.mark.django_db
def test_the_accept_key_bridges_the_call(twilio, number):
    whisper = answered(twilio, incoming(twilio))

    response = pressed(twilio, whisper, "1")

    assert list(response) == [], "an empty <Response/> joins the callee to the caller"
    call = Call.objects.get()
    assert call.decision == Call.Decision.ACCEPTED
    assert call.decided_at is not None
    assert call.outcome == Call.Outcome.ACCEPTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("digits", "decision"), [("2", "rejected"), ("#", "rejected"), ("", "no_input")]
)
def test_any_other_key_or_silence_hangs_up_the_callee(twilio, number, digits, decision):
    whisper = answered(twilio, incoming(twilio))

    response = pressed(twilio, whisper, digits)

    assert [el.tag for el in response] == ["Hangup"]
    call = Call.objects.get()
    assert call.decision == decision
    assert call.outcome == decision


@pytest.mark.django_db
def test_a_custom_accept_key_is_the_only_one_that_accepts(twilio, number):
    Campaign.objects.update(accept_digit="*")
    whisper = answered(twilio, incoming(twilio))
    assert "Press star to accept" in _said(whisper)

    assert [el.tag for el in pressed(twilio, whisper, "1")] == ["Hangup"]
    assert Call.objects.get().outcome == Call.Outcome.REJECTED


@pytest.mark.django_db
def test_the_first_key_stands_when_the_request_comes_again(twilio, number):
    whisper = answered(twilio, incoming(twilio))
    pressed(twilio, whisper, "3")

    response = pressed(twilio, whisper, "1")

    assert [el.tag for el in response] == ["Hangup"]
    assert Call.objects.get().outcome == Call.Outcome.REJECTED


@pytest.mark.django_db
def test_the_parent_call_is_found_from_parent_call_sid_without_the_query(twilio, number):
    incoming(twilio)

    whisper = twilio.post("/twilio/voice/whisper/", {"CallSid": "CA200", "ParentCallSid": "CA100"})

    assert whisper.status_code == 200
    assert Call.objects.get().dial_call_sid == "CA200"


@pytest.mark.django_db
def test_an_unknown_call_still_gets_screened_with_the_default_key(twilio, db):
    response = twilio.post("/twilio/voice/whisper/?call=CA999", {"CallSid": "CA998"})

    from tests.twilio_signing import twiml

    whisper = twiml(response)
    assert _said(whisper) == (
        "Call from a tracked number. Press 1 to accept, or any other key to decline."
    )
    assert Call.objects.count() == 0


@pytest.mark.django_db
def test_whisper_and_key_stay_within_their_query_budget(
    twilio, number, django_assert_max_num_queries
):
    response = incoming(twilio)
    # Each: lock and read the call with its campaign and legs; update the leg and the call, in
    # one statement on PostgreSQL (two on SQLite); plus the savepoint pair.
    budget = 4 if connection.vendor == "postgresql" else 5
    with django_assert_max_num_queries(budget):
        whisper = answered(twilio, response)
    with django_assert_max_num_queries(budget):
        pressed(twilio, whisper, "1")
