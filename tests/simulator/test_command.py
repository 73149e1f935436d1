"""`simulate_call`, in-process and against a running server."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.simulator.conftest import CALLER, TRACKING, WHISPER
from tracking.models import Call, Recording
from whisper.simulator import SimulatedCall, simulate_over_http


def simulate(*args: str) -> str:
    out = StringIO()
    call_command("simulate_call", "--to", TRACKING, "--from", CALLER, *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_command_prints_what_each_side_hears_and_the_log_row(number):
    output = simulate("--city", "AUSTIN", "--state", "TX", "--zip", "78701", "--country", "US")

    assert f"  Callee hears: “{WHISPER}”" in output
    assert "  The callee presses 1." in output
    assert "  Caller and callee are connected and talk for 42 s." in output
    row = Call.objects.get()
    assert f"Call log row {row.call_sid}:" in output
    assert "  outcome:      Accepted" in output
    assert "  location:     AUSTIN, TX, 78701, US" in output
    assert "  talk:         42 s" in output


@pytest.mark.django_db
def test_the_command_can_decline_with_a_short_talk_option(number):
    output = simulate("--answer", "decline", "--talk", "5")

    assert "  Caller hears: “Sorry, nobody could take your call" in output
    assert "  outcome:      Rejected" in output


@pytest.mark.django_db
def test_url_mode_without_a_token_says_what_to_set(settings):
    settings.TWILIO_AUTH_TOKEN = ""

    with pytest.raises(CommandError, match="set TWILIO_AUTH_TOKEN to the same value"):
        simulate("--url", "http://127.0.0.1:9")


@pytest.mark.django_db
def test_url_mode_reports_a_server_that_is_not_running():
    with pytest.raises(
        CommandError, match=re.escape("Could not reach the server at http://127.0.0.1:9")
    ):
        simulate("--url", "http://127.0.0.1:9")


@pytest.mark.django_db(transaction=True)
def test_url_mode_drives_a_real_server(live_server, number):
    transcript = simulate_over_http(
        SimulatedCall(to=TRACKING, caller=CALLER, city="AUSTIN", state="TX", answer="accept"),
        server=live_server.url,
    )

    assert all(url.startswith(live_server.url + "/") for url in transcript.urls())
    assert transcript.callee_heard == [WHISPER]
    row = Call.objects.get(call_sid=transcript.call_sid)
    assert (row.outcome, row.talk_seconds) == ("accepted", 42)


@pytest.mark.django_db(transaction=True)
def test_url_mode_through_the_command(live_server, number):
    output = simulate("--url", live_server.url, "--answer", "busy")

    assert f"→ POST {live_server.url}/twilio/voice/  (incoming call)  ← 200" in output
    assert "  outcome:      Busy" in output


@pytest.mark.django_db
def test_it_takes_one_answer_per_destination_and_lists_them(number):
    number.campaign.destinations.create(position=1, label="Owner", phone_number="+15125550122")

    output = simulate("--answer", "decline", "--answer", "accept")

    assert "the phones rung answer, in order: decline, accept." in output
    assert "  The callee at +15125550122 picks up after 6 s" in output
    assert "  outcome:      Accepted" in output
    assert "  taken by:     Owner" in output
    assert "  destination:  1. Front desk +15125550199: Declined" in output
    assert "  destination:  2. Owner +15125550122: Accepted" in output


@pytest.mark.django_db
def test_it_leaves_a_message_of_the_length_asked(number):
    campaign = number.campaign
    campaign.voicemail_enabled = True
    campaign.voicemail_transcribe = True
    campaign.save()

    output = simulate(
        "--answer", "no-answer", "--message-seconds", "20", "--transcription", "Call me back."
    )

    assert "  The caller leaves a 20-second message and presses #." in output
    assert "  Caller hears: “Thank you for your message. Goodbye.”" in output
    assert "  outcome:      Voicemail" in output
    recording = Recording.objects.get()
    assert (recording.duration_seconds, recording.transcription) == (20, "Call me back.")
    assert f"  recording:    Voicemail {recording.recording_sid}, 20 s: “Call me back.”" in output
