"""A suspect caller must press a random key before anything rings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.screening.conftest import answer_challenge, challenge_digit
from tests.twilio_signing import path_of, twiml
from tests.whisper.steps import CALLER, answered, dial_done, incoming, pressed, status
from tracking import screening
from tracking.models import Call


@pytest.mark.django_db
def test_a_caller_who_passes_the_challenge_rings_the_business(twilio, screened):
    challenge = incoming(twilio, StirVerstat="No-TN-Validation")
    assert Call.objects.get().legs.get().result == "pending"  # planned, not rung

    response = answer_challenge(twilio, challenge, challenge_digit(challenge))

    # A document of its own, <Dial> first: the caller hears ringing until someone accepts.
    assert [el.tag for el in response] == ["Dial"]
    assert response.find("Dial").get("answerOnBridge") == "true"
    whisper = answered(twilio, response)
    pressed(twilio, whisper, "1")
    dial_done(twilio, response, DialCallStatus="completed", DialBridged="true")
    status(twilio)
    call = Call.objects.get()
    assert (call.outcome, call.challenge_passed, call.spam) == ("accepted", True, "")
    assert call.screening_reason == "caller ID not verified"


@pytest.mark.django_db
@pytest.mark.parametrize("digits", ["", "#", "0"])
def test_a_caller_who_fails_the_challenge_is_spam(twilio, screened, digits):
    challenge = incoming(twilio)
    right = challenge_digit(challenge)
    wrong = digits if digits != "0" else str(int(right) % 9 + 1)

    response = answer_challenge(twilio, challenge, wrong)

    assert [el.tag for el in response] == ["Say", "Hangup"]
    status(twilio, CallDuration="15")
    call = Call.objects.get()
    assert (call.outcome, call.spam, call.challenge_passed) == ("spam", "challenge", False)


@pytest.mark.django_db
def test_the_first_answer_stands(twilio, screened):
    challenge = incoming(twilio)
    digit = challenge_digit(challenge)
    answer_challenge(twilio, challenge, digit)

    answer_challenge(twilio, challenge, "")  # a late or replayed post

    call = Call.objects.get()
    assert (call.challenge_passed, call.spam) == (True, "")


@pytest.mark.django_db
def test_the_digit_is_random(twilio, screened):
    digits = {challenge_digit(incoming(twilio, sid=f"CA{n}")) for n in range(40)}

    assert len(digits) > 3


@pytest.mark.django_db
def test_a_token_of_another_call_or_forged_does_not_pass(twilio, screened):
    first = incoming(twilio, sid="CA1")
    second = incoming(twilio, sid="CA2")
    token_of_first = path_of(first.find("Gather").get("action")).split("t=")[1]
    action = path_of(second.find("Gather").get("action")).split("t=")[0] + "t=" + token_of_first

    response = twiml(twilio.post(action, {"CallSid": "CA2", "Digits": challenge_digit(first)}))

    assert [el.tag for el in response] == ["Say", "Hangup"]
    assert Call.objects.get(call_sid="CA2").spam == "challenge"


def test_an_old_token_is_refused(settings):
    token = screening.challenge_token(sid="CA1", digit="4", started_at=timezone.now())
    assert screening.read_challenge_token(token, sid="CA1")[0] == "4"
    assert screening.read_challenge_token(token, sid="CA2") is None
    assert screening.read_challenge_token(token + "x", sid="CA1") is None


@pytest.mark.django_db
def test_a_caller_who_hangs_up_at_the_challenge_abandoned(twilio, screened):
    incoming(twilio)

    status(twilio, CallDuration="4")

    call = Call.objects.get()
    assert (call.outcome, call.challenge_passed) == ("abandoned", None)


@pytest.mark.django_db
def test_a_watch_listed_prefix_is_challenged(twilio, number):
    number.campaign.challenge_prefixes = "+1900, +1312"
    number.campaign.save()

    response = incoming(twilio, StirVerstat="TN-Validation-Passed-A")

    assert response.find("Gather") is not None
    assert Call.objects.get().screening_reason == "number starts with +1312"


@pytest.mark.django_db
def test_a_burst_of_calls_from_one_number_is_challenged(twilio, number):
    campaign = number.campaign
    campaign.challenge_burst_calls = 2
    campaign.challenge_burst_minutes = 10
    campaign.save()
    now = timezone.now()
    for minutes, sid in ((30, "CA-old"), (8, "CA-1")):
        Call.objects.create(
            call_sid=sid, caller_number=CALLER, started_at=now - timedelta(minutes=minutes)
        )

    assert [el.tag for el in incoming(twilio, sid="CA-2")] == ["Dial"]
    third = incoming(twilio, sid="CA-3")

    assert third.find("Gather") is not None
    assert Call.objects.get(call_sid="CA-3").screening_reason == "more than 2 calls in 10 min"
    # Another number is not affected.
    assert incoming(twilio, sid="CA-4", From="+13125550777").find("Dial") is not None


@pytest.mark.django_db
def test_the_whole_call_after_a_passed_challenge_reaches_voicemail(twilio, screened):
    campaign = screened.campaign
    campaign.voicemail_enabled = True
    campaign.save()
    challenge = incoming(twilio)
    response = answer_challenge(twilio, challenge, challenge_digit(challenge))

    after = dial_done(twilio, response, DialCallStatus="no-answer")

    assert after.find("Record") is not None
