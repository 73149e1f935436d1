"""Issue 7's call flows, end to end: several destinations, voicemail, business hours, recording,
each played by the simulator as Twilio plays them and checked in the call log."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.simulator.conftest import MISSED
from tracking.models import Call, CallLeg, Campaign, Recording
from whisper.simulator import simulate_in_process, simulate_over_http

R = CallLeg.Result
GREETING = "Sorry, we are out. Leave a message after the tone."


@pytest.fixture
def voicemail(two_destinations):
    campaign = two_destinations.campaign
    campaign.voicemail_enabled = True
    campaign.voicemail_greeting = GREETING
    campaign.voicemail_transcribe = True
    campaign.save()
    return two_destinations


def _closed_now(campaign: Campaign) -> None:
    """Opening hours that exclude this moment, by the campaign's own clock: open only on
    another weekday."""
    local = datetime.now(ZoneInfo(campaign.time_zone))
    campaign.opening_hours.create(
        weekday=(local + timedelta(days=1)).weekday(), opens=time(9), closes=time(17)
    )


def _row(transcript) -> Call:
    return Call.objects.get(call_sid=transcript.call_sid)


def _results(call: Call) -> list[tuple[str, str]]:
    return [(leg.label, leg.result) for leg in call.legs.order_by("position")]


def _paths(transcript) -> list[str]:
    return [urlsplit(url).path for url in transcript.urls()]


def _sent(transcript, path: str) -> list[dict[str, str]]:
    """The parameters of every request made to `path`, in order."""
    return [ex.params for ex in transcript.exchanges if urlsplit(ex.url).path == path]


@pytest.mark.django_db
def test_it_rings_the_second_destination_when_the_first_declines(two_destinations, austin_call):
    transcript = simulate_in_process(austin_call(answers=("decline", "accept")))

    row = _row(transcript)
    assert (row.outcome, row.answered_by, row.decision) == ("accepted", "Owner", "accepted")
    assert _results(row) == [("Front desk", R.REJECTED), ("Owner", R.ACCEPTED)]
    assert [leg.leg_sid for leg in row.legs.order_by("position")] == transcript.leg_sids
    assert row.talk_seconds == 42
    assert transcript.keys_pressed == ["9", "1"]
    dials = _sent(transcript, "/twilio/voice/dial-done/")
    assert [(d["DialCallStatus"], d["DialBridged"]) for d in dials] == [
        ("completed", "false"),
        ("completed", "true"),
    ]
    # Each phone's leg is its own call, child of the caller's.
    whispers = _sent(transcript, "/twilio/voice/whisper/")
    assert [w["CallSid"] for w in whispers] == transcript.leg_sids
    assert {w["ParentCallSid"] for w in whispers} == {transcript.call_sid}
    assert {w["Direction"] for w in whispers} == {"outbound-dial"}


@pytest.mark.django_db
def test_it_takes_a_message_when_every_destination_declines(voicemail, austin_call):
    transcript = simulate_in_process(
        austin_call(
            answers=("decline",), message_seconds=20, transcription_text="Please call Bob back."
        )
    )

    assert transcript.caller_heard == [GREETING, "Thank you for your message. Goodbye."]
    row = _row(transcript)
    assert (row.outcome, row.answered_by) == ("voicemail", "")
    assert row.voicemail_at is not None
    assert _results(row) == [("Front desk", R.REJECTED), ("Owner", R.REJECTED)]
    recording = Recording.objects.get(call=row)
    assert (recording.kind, recording.duration_seconds, recording.status) == (
        "voicemail",
        20,
        "completed",
    )
    assert recording.recording_sid == transcript.recording_sids[0]
    assert recording.url == (
        f"https://api.twilio.com/2010-04-01/Accounts/{'AC' + '0' * 32}/Recordings/"
        f"{recording.recording_sid}"
    )
    assert (recording.transcription, recording.transcription_status) == (
        "Please call Bob back.",
        "completed",
    )
    assert recording.is_message
    (action,) = _sent(transcript, "/twilio/voice/voicemail/")
    assert (action["Digits"], action["RecordingDuration"]) == ("#", "20")
    (callback,) = _sent(transcript, "/twilio/voice/recording/")
    assert (callback["RecordingSource"], callback["RecordingChannels"]) == ("RecordVerb", "1")


@pytest.mark.django_db
def test_it_joins_the_first_to_accept_when_all_ring_at_once(all_at_once, austin_call):
    transcript = simulate_in_process(austin_call(answers=("decline", "accept", "accept")))

    row = _row(transcript)
    assert (row.outcome, row.answered_by, row.talk_seconds) == ("accepted", "Owner", 42)
    assert _results(row) == [
        ("Front desk", R.REJECTED),
        ("Owner", R.ACCEPTED),
        ("Sales", R.CANCELED),
    ]
    assert transcript.keys_pressed == ["9", "1"], "Sales was hung up before picking up"
    (dial,) = _sent(transcript, "/twilio/voice/dial-done/")
    assert (dial["DialCallSid"], dial["DialBridged"]) == (transcript.leg_sids[1], "true")
    statuses = {
        p["CallSid"]: p["CallStatus"] for p in _sent(transcript, "/twilio/voice/leg-status/")
    }
    assert [statuses[sid] for sid in transcript.leg_sids] == ["completed", "completed", "canceled"]


@pytest.mark.django_db
def test_it_stops_a_phone_still_ringing_when_another_accepts(all_at_once, austin_call):
    transcript = simulate_in_process(austin_call(answers=("no-answer", "accept", "busy")))

    row = _row(transcript)
    assert (row.outcome, row.answered_by) == ("accepted", "Owner")
    assert _results(row) == [
        ("Front desk", R.CANCELED),
        ("Owner", R.ACCEPTED),
        ("Sales", R.BUSY),
    ]
    assert row.legs.filter(result=R.ACCEPTED).count() == 1


@pytest.mark.django_db
def test_it_sends_an_after_hours_call_straight_to_voicemail(voicemail, austin_call):
    campaign = voicemail.campaign
    campaign.time_zone = "Pacific/Auckland"
    campaign.save()
    _closed_now(campaign)

    transcript = simulate_in_process(austin_call(message_seconds=9))

    assert transcript.leg_sids == [] and transcript.callee_heard == []
    assert transcript.caller_heard[0] == GREETING
    row = _row(transcript)
    assert (row.outcome, row.after_hours) == ("voicemail", True)
    assert _results(row) == []
    assert Recording.objects.get(call=row).duration_seconds == 9


@pytest.mark.django_db
def test_it_closes_an_after_hours_call_without_voicemail(number, austin_call):
    _closed_now(number.campaign)

    transcript = simulate_in_process(austin_call())

    assert transcript.caller_heard == [MISSED]
    row = _row(transcript)
    assert (row.outcome, row.after_hours) == ("closed", True)


@pytest.mark.django_db
def test_it_rings_the_after_hours_number_after_hours(two_destinations, austin_call):
    campaign = two_destinations.campaign
    campaign.after_hours_action = Campaign.AfterHours.FORWARD
    campaign.after_hours_number = "+15125550177"
    campaign.save()
    _closed_now(campaign)

    transcript = simulate_in_process(austin_call("accept"))

    assert "  Twilio dials +15125550177 for up to 20 s; the caller hears ringing." in (
        transcript.lines
    )
    row = _row(transcript)
    assert (row.outcome, row.after_hours, row.answered_by) == ("accepted", True, "After hours")
    assert [(leg.label, leg.phone_number, leg.result) for leg in row.legs.all()] == [
        ("After hours", "+15125550177", R.ACCEPTED)
    ]


@pytest.mark.django_db
def test_it_abandons_a_call_whose_caller_hangs_up_while_the_second_rings(
    two_destinations, austin_call
):
    transcript = simulate_in_process(austin_call(answers=("no-answer", "hang-up")))

    row = _row(transcript)
    assert (row.outcome, row.call_status) == ("abandoned", "completed")
    assert _results(row) == [("Front desk", R.NO_ANSWER), ("Owner", R.CANCELED)]
    dials = _sent(transcript, "/twilio/voice/dial-done/")
    assert [d["DialCallStatus"] for d in dials] == ["no-answer", "canceled"]
    assert _paths(transcript)[-1] == "/twilio/voice/status/"


@pytest.mark.django_db
def test_it_abandons_a_call_whose_caller_hangs_up_during_the_second_whisper(voicemail, austin_call):
    transcript = simulate_in_process(austin_call(answers=("decline", "hang-up-in-whisper")))

    assert len(transcript.callee_heard) == 2, "both destinations heard the whisper"
    assert transcript.keys_pressed == ["9"]
    assert transcript.caller_heard == [], "nobody is left to ring or to tell"
    dials = _sent(transcript, "/twilio/voice/dial-done/")
    assert [d["DialCallStatus"] for d in dials] == ["completed", "canceled"]
    assert _paths(transcript)[-1] == "/twilio/voice/status/"
    assert not Recording.objects.exists()
    row = _row(transcript)
    assert (row.outcome, row.call_status) == ("abandoned", "completed")
    assert _results(row) == [("Front desk", R.REJECTED), ("Owner", R.CANCELED)]


@pytest.mark.django_db
def test_it_logs_the_last_dial_of_a_call_that_rang_several_times(two_destinations, austin_call):
    transcript = simulate_in_process(austin_call(answers=("decline", "accept")))

    row = _row(transcript)
    assert row.outcome == "accepted"
    assert (row.dial_status, row.dial_bridged, row.dial_call_sid) == (
        "completed",
        True,
        transcript.leg_sids[1],
    )


@pytest.mark.django_db
def test_it_does_not_count_an_empty_voicemail_as_a_message(voicemail, austin_call):
    transcript = simulate_in_process(austin_call(answers=("decline",), message_seconds=0))

    assert transcript.caller_heard == [GREETING]
    row = _row(transcript)
    assert row.outcome == "rejected"
    assert row.voicemail_at is not None
    recordings = list(Recording.objects.filter(call=row))
    assert all(not recording.is_message for recording in recordings)
    (action,) = _sent(transcript, "/twilio/voice/voicemail/")
    assert (action["Digits"], action["RecordingDuration"]) == ("hangup", "0")
    assert _sent(transcript, "/twilio/voice/transcription/") == []


@pytest.mark.django_db
def test_it_stores_the_recording_of_a_recorded_conversation(two_destinations, austin_call):
    campaign = two_destinations.campaign
    campaign.record_calls = True
    campaign.recording_notice = "This call is recorded."
    campaign.save()

    transcript = simulate_in_process(austin_call(answers=("silent", "accept"), talk_seconds=30))

    assert transcript.caller_heard == ["This call is recorded."]
    row = _row(transcript)
    assert (row.outcome, row.answered_by) == ("accepted", "Owner")
    assert _results(row) == [("Front desk", R.NO_INPUT), ("Owner", R.ACCEPTED)]
    recording = Recording.objects.get(call=row)
    assert (recording.kind, recording.duration_seconds, recording.status) == (
        "conversation",
        30,
        "completed",
    )
    (callback,) = _sent(transcript, "/twilio/voice/recording/")
    assert parse_qs(urlsplit(transcript.exchanges[-2].url).query)["kind"] == ["conversation"]
    assert (callback["RecordingSource"], callback["RecordingChannels"]) == ("DialVerb", "2")


@pytest.mark.django_db
def test_it_records_nothing_when_nobody_takes_a_recorded_call(two_destinations, austin_call):
    campaign = two_destinations.campaign
    campaign.record_calls = True
    campaign.save()

    transcript = simulate_in_process(austin_call("decline"))

    assert _row(transcript).outcome == "rejected"
    assert _sent(transcript, "/twilio/voice/recording/") == []
    assert not Recording.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_plays_destinations_and_voicemail_over_http(live_server, voicemail):
    from whisper.simulator import SimulatedCall

    transcript = simulate_over_http(
        SimulatedCall(
            to="+15125550100", caller="+13125550123", answers=("busy", "silent"), message_seconds=7
        ),
        server=live_server.url,
    )

    assert all(url.startswith(live_server.url + "/") for url in transcript.urls())
    row = _row(transcript)
    assert row.outcome == "voicemail"
    assert _results(row) == [("Front desk", R.BUSY), ("Owner", R.NO_INPUT)]
    recording = Recording.objects.get(call=row)
    assert (recording.duration_seconds, recording.transcription_status) == (7, "completed")
