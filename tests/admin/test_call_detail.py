"""The call log for issue 7: destinations rung, recordings, voicemail and after-hours calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.admin.conftest import make_call
from tests.admin.html import parse, result_rows, texts
from tracking.models import Call, CallLeg, Recording

Outcome = Call.Outcome
CHANGELIST = reverse("admin:tracking_call_changelist")
RECORDING_SID = "RE" + "b" * 32


def detail(client, call: Call):
    response = client.get(reverse("admin:tracking_call_change", args=[call.pk]))
    assert response.status_code == 200
    return response


def leg_rows(response) -> list[list[str]]:
    """The "Destinations rung" table, one list of cell texts per destination."""
    content = response.content.decode()
    group = content[content.index('id="legs-group"') : content.index('id="recordings-group"')]
    page = parse(group).by_class
    columns = ["field-order", "field-label", "field-phone", "field-result_label"]
    columns += ["field-whispered_at", "field-decided_at"]
    cells = [page.get(column, []) for column in columns]
    return [list(row) for row in zip(*cells, strict=True)]


def test_the_call_page_lists_the_destinations_rung_in_order(marketer_client, number):
    call = make_call(number=number, outcome=Outcome.ACCEPTED, answered_by="Owner")
    whispered = call.started_at + timedelta(seconds=5)
    CallLeg.objects.create(
        call=call,
        position=1,
        label="Owner",
        phone_number="+15125550198",
        whispered_at=whispered,
        decision="accepted",
        decided_at=whispered + timedelta(seconds=3),
        result=CallLeg.Result.ACCEPTED,
    )
    CallLeg.objects.create(
        call=call,
        position=0,
        label="Front desk",
        phone_number="+15125550199",
        result=CallLeg.Result.NO_ANSWER,
    )
    CallLeg.objects.create(call=call, position=2, label="Backup", phone_number="+15125550197")

    response = detail(marketer_client, call)

    legs = leg_rows(response)
    assert [row[:4] for row in legs] == [
        ["1", "Front desk", "(512) 555-0199", "No answer"],
        ["2", "Owner", "(512) 555-0198", "Accepted"],
        ["3", "Backup", "(512) 555-0197", "Not rung"],
    ]
    assert legs[0][4:] == ["—", "—"]
    assert legs[1][4] not in ("", "—")
    assert texts(response, "field-answered_by")[0].startswith("Taken by: Owner")
    # The timeline says the same in words, in order, each phone in the lists' format.
    assert texts(response, "event-title") == [
        "Unknown number called (512) 555-0100",
        "Front desk, (512) 555-0199, did not answer",
        "Owner, (512) 555-0198, answered and heard the whisper",
        "Owner, (512) 555-0198, pressed the accept key and took the call",
        "Backup, (512) 555-0197, was not rung",
        "Taken by Owner",
    ]
    # Read-only: nothing to add, change or delete, for a marketer as for anyone.
    content = response.content.decode()
    assert 'name="legs-0-label"' not in content
    assert 'name="_save"' not in content


def test_the_call_page_plays_its_recordings_through_the_admin(marketer_client, number):
    call = make_call(number=number, outcome=Outcome.VOICEMAIL)
    message = Recording.objects.create(
        call=call,
        recording_sid=RECORDING_SID,
        kind=Recording.Kind.VOICEMAIL,
        url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/" + RECORDING_SID,
        duration_seconds=74,
        status="completed",
        transcription="Hi, it's Sam. Please call me back about the quote.",
        transcription_status="completed",
    )
    Recording.objects.create(
        call=call,
        recording_sid="RE" + "c" * 32,
        kind=Recording.Kind.CONVERSATION,
        status="absent",
        duration_seconds=0,
    )

    response = detail(marketer_client, call)

    audio_url = reverse("admin:tracking_call_recording_audio", args=[message.pk])
    content = response.content.decode()
    assert (
        f'<audio class="recording-player" controls preload="none" src="{audio_url}"></audio>'
        in content
    )
    assert "api.twilio.com" not in content  # the browser never gets Twilio's own address
    assert texts(response, "field-length")[:2] == ["1:14", "0:00"]
    assert texts(response, "field-transcript")[0] == (
        "Hi, it's Sam. Please call me back about the quote."
    )
    assert texts(response, "transcript") == ["Hi, it's Sam. Please call me back about the quote."]
    assert texts(response, "recording-missing") == [
        "No audio: Twilio reported the recording absent."
    ]
    assert content.count("<audio") == 1


def test_without_twilio_credentials_the_page_says_what_is_missing(
    marketer_client, number, settings
):
    settings.TWILIO_ACCOUNT_SID = ""
    call = make_call(number=number, outcome=Outcome.VOICEMAIL)
    Recording.objects.create(
        call=call,
        recording_sid=RECORDING_SID,
        kind=Recording.Kind.VOICEMAIL,
        duration_seconds=20,
        status="completed",
    )
    response = detail(marketer_client, call)
    [missing] = texts(response, "recording-missing")
    assert "TWILIO_ACCOUNT_SID is not set" in missing
    assert "<audio" not in response.content.decode()


def test_a_transcription_still_on_its_way_says_so(admin_client, number):
    call = make_call(number=number, outcome=Outcome.VOICEMAIL)
    Recording.objects.create(
        call=call,
        recording_sid=RECORDING_SID,
        kind=Recording.Kind.VOICEMAIL,
        duration_seconds=12,
        transcription_status="in-progress",
    )
    response = detail(admin_client, call)
    assert texts(response, "field-transcript") == ["Transcription in-progress."]


def test_the_list_shows_who_took_each_call(admin_client, number):
    make_call(number=number, outcome=Outcome.ACCEPTED, answered_by="Owner's mobile")
    make_call(number=number, outcome=Outcome.NO_ANSWER, ago=timedelta(hours=2))

    rows = result_rows(admin_client.get(CHANGELIST))

    assert [row["taken_by"] for row in rows] == ["Owner's mobile", "—"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"outcome__exact": "voicemail"}, {"message"}),
        ({"outcome__exact": "closed"}, {"closed"}),
        ({"after_hours__exact": "1"}, {"message", "closed"}),
        ({"after_hours__exact": "0"}, {"taken"}),
        ({"after_hours__exact": "1", "outcome__exact": "closed"}, {"closed"}),
    ],
)
def test_it_filters_by_voicemail_closed_and_after_hours(admin_client, number, params, expected):
    make_call(number=number, outcome=Outcome.ACCEPTED, caller_name="taken")
    make_call(number=number, outcome=Outcome.VOICEMAIL, after_hours=True, caller_name="message")
    make_call(number=number, outcome=Outcome.CLOSED, after_hours=True, caller_name="closed")

    rows = result_rows(admin_client.get(CHANGELIST, params))

    assert {row["caller"].split(" · ")[-1] for row in rows} == expected


def test_the_filters_offer_voicemail_closed_and_after_hours(admin_client, db):
    content = admin_client.get(CHANGELIST).content.decode()
    assert "?outcome__exact=voicemail" in content
    assert "?outcome__exact=closed" in content
    assert "?after_hours__exact=1" in content


def test_the_call_list_takes_the_same_queries_for_many_calls(
    admin_client, number, django_assert_max_num_queries
):
    def add_calls(count: int) -> None:
        for _ in range(count):
            call = make_call(number=number, outcome=Outcome.VOICEMAIL, answered_by="")
            CallLeg.objects.create(call=call, position=0, label="Desk", phone_number="+1512")
            Recording.objects.create(call=call, recording_sid=f"RE{call.pk:032x}", kind="voicemail")

    add_calls(2)
    with django_assert_max_num_queries(12) as few:
        assert len(result_rows(admin_client.get(CHANGELIST))) == 2
    add_calls(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(result_rows(admin_client.get(CHANGELIST))) == 32
