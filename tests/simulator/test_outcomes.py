"""Every outcome of a call, produced the way Twilio produces it: by the simulator."""

from __future__ import annotations

import pytest

from tests.simulator.conftest import CALLER, MISSED, TRACKING, WHISPER
from tracking.models import Call, Campaign, TrackingNumber
from whisper.simulator import simulate_in_process


def _row(transcript) -> Call:
    return Call.objects.get(call_sid=transcript.call_sid)


@pytest.mark.django_db
def test_an_accepted_call_is_bridged_and_logged(number, austin_call):
    transcript = simulate_in_process(austin_call("accept"))

    assert transcript.callee_heard == [WHISPER]
    assert transcript.keys_pressed == ["1"]
    assert transcript.caller_heard == []
    row = _row(transcript)
    assert (row.outcome, row.decision, row.dial_status, row.dial_bridged) == (
        "accepted",
        "accepted",
        "completed",
        True,
    )
    assert (row.talk_seconds, row.duration_seconds) == (42, transcript.duration_seconds)
    assert row.dial_call_sid == transcript.child_sid
    assert (row.caller_number, row.caller_city, row.caller_state, row.caller_zip) == (
        CALLER,
        "AUSTIN",
        "TX",
        "78701",
    )
    assert row.ended_at is not None
    assert [url.split("?")[0] for url in transcript.urls()] == [
        "http://testserver/twilio/voice/",
        "http://testserver/twilio/voice/whisper/",
        "http://testserver/twilio/voice/whisper/decide/",
        "http://testserver/twilio/voice/leg-status/",
        "http://testserver/twilio/voice/dial-done/",
        "http://testserver/twilio/voice/status/",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("answer", "outcome", "decision", "keys"),
    [("decline", "rejected", "rejected", ["9"]), ("silent", "no_input", "no_input", [])],
)
def test_a_callee_who_does_not_accept_leaves_the_caller_the_missed_message(
    number, austin_call, answer, outcome, decision, keys
):
    transcript = simulate_in_process(austin_call(answer))

    assert transcript.callee_heard == [WHISPER]
    assert transcript.keys_pressed == keys
    assert transcript.caller_heard == [MISSED]
    row = _row(transcript)
    assert (row.outcome, row.decision, row.dial_bridged, row.talk_seconds) == (
        outcome,
        decision,
        False,
        None,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("answer", "outcome"), [("no-answer", "no_answer"), ("busy", "busy")])
def test_a_phone_nobody_picks_up_never_hears_the_whisper(number, austin_call, answer, outcome):
    transcript = simulate_in_process(austin_call(answer))

    assert transcript.callee_heard == []
    assert transcript.caller_heard == [MISSED]
    row = _row(transcript)
    assert (row.outcome, row.dial_status, row.whispered_at) == (outcome, answer, None)
    assert row.duration_seconds == transcript.duration_seconds


@pytest.mark.django_db
def test_no_answer_lasts_the_campaigns_ring_timeout(number, austin_call):
    number.campaign.ring_timeout = 25
    number.campaign.save()

    transcript = simulate_in_process(austin_call("no-answer"))

    assert "  Twilio dials +15125550199 for up to 25 s; the caller hears ringing." in (
        transcript.lines
    )
    assert _row(transcript).duration_seconds >= 25


@pytest.mark.django_db
def test_a_caller_who_hangs_up_while_it_rings_is_abandoned(number, austin_call):
    transcript = simulate_in_process(austin_call("hang-up"))

    assert transcript.callee_heard == [] and transcript.caller_heard == []
    assert "  (the caller has hung up: nobody hears the answer)" in transcript.lines
    row = _row(transcript)
    assert (row.outcome, row.dial_status, row.call_status) == ("abandoned", "canceled", "completed")


@pytest.mark.django_db
def test_a_call_to_an_unknown_number_is_unmatched(number, austin_call):
    transcript = simulate_in_process(austin_call(to="+15125550777"))

    assert transcript.caller_heard == [
        "Sorry, the number you have called is not in service. Goodbye."
    ]
    assert transcript.child_sid == ""
    row = _row(transcript)
    assert (row.outcome, row.tracking_number, row.called_number) == (
        "unmatched",
        None,
        "+15125550777",
    )


@pytest.mark.django_db
def test_a_destination_twilio_cannot_dial_fails(campaign, austin_call):
    # Stored before validation existed: the forward number is too short to dial.
    TrackingNumber.objects.create(phone_number=TRACKING, campaign=campaign, forward_to="+1555")

    transcript = simulate_in_process(austin_call())

    assert transcript.caller_heard == [MISSED]
    assert _row(transcript).outcome == "failed"


@pytest.mark.django_db
def test_the_accept_key_is_read_from_the_whisper(austin_call):
    campaign = Campaign.objects.create(name="Star Campaign", accept_digit="*")
    campaign.destinations.create(label="Front desk", phone_number="+15125550199")
    TrackingNumber.objects.create(phone_number=TRACKING, campaign=campaign)

    transcript = simulate_in_process(austin_call())

    assert transcript.callee_heard[0].endswith("Press star to accept, or any other key to decline.")
    assert transcript.keys_pressed == ["*"]
    assert _row(transcript).outcome == "accepted"


@pytest.mark.django_db
def test_declining_never_presses_the_accept_key(austin_call):
    campaign = Campaign.objects.create(name="Nine", accept_digit="9")
    campaign.destinations.create(label="Front desk", phone_number="+15125550199")
    TrackingNumber.objects.create(phone_number=TRACKING, campaign=campaign)

    transcript = simulate_in_process(austin_call("decline"))

    assert transcript.keys_pressed == ["7"]
    assert _row(transcript).outcome == "rejected"


@pytest.mark.django_db
def test_requests_are_signed_for_public_base_url_when_set(number, austin_call, settings):
    settings.PUBLIC_BASE_URL = "https://calls.example.com"

    transcript = simulate_in_process(austin_call())

    assert all(url.startswith("https://calls.example.com/") for url in transcript.urls())
    assert _row(transcript).outcome == "accepted"


@pytest.mark.django_db
def test_without_an_auth_token_a_throwaway_one_signs_and_checks_the_run(
    number, austin_call, settings
):
    settings.TWILIO_AUTH_TOKEN = ""
    lines = []

    transcript = simulate_in_process(austin_call(), echo=lines.append)

    assert lines[0].startswith("(TWILIO_AUTH_TOKEN is not set: this run signs")
    assert _row(transcript).outcome == "accepted"
    assert settings.TWILIO_AUTH_TOKEN == ""


@pytest.mark.django_db
def test_the_callers_name_and_place_reach_the_log(number, austin_call):
    transcript = simulate_in_process(austin_call(caller_name="JANE DOE"))

    incoming = transcript.exchanges[0].params
    assert incoming["CallerName"] == "JANE DOE"
    assert incoming["To"] == TRACKING and incoming["Direction"] == "inbound"
    assert _row(transcript).caller_name == "JANE DOE"
