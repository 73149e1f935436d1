"""Playing a recording in the admin: the app fetches the audio from Twilio's REST API (here
the fake) by the recording's SID, and streams it to people who may view calls."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from tests.admin.conftest import make_call
from tests.admin.html import texts
from tests.twilio_signing import ACCOUNT_SID, AUTH_TOKEN
from tracking.models import Recording

SID = "RE" + "d" * 32
AUDIO = b"ID3\x04\x00fake mp3 frames " + bytes(range(256)) * 40


@pytest.fixture
def recording(number) -> Recording:
    call = make_call(number=number, outcome="voicemail")
    return Recording.objects.create(
        call=call,
        recording_sid=SID,
        kind=Recording.Kind.VOICEMAIL,
        # Whatever a webhook said the address was, the app never fetches it.
        url="http://169.254.169.254/latest/meta-data",
        duration_seconds=9,
        status="completed",
    )


def audio_url(recording: Recording) -> str:
    return reverse("admin:tracking_call_recording_audio", args=[recording.pk])


def client_with(*codenames: str, group: str | None = None) -> Client:
    user = User.objects.create_user("someone", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    if group:
        user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


def test_it_streams_the_recording_from_twilio(admin_client, fake, recording):
    fake.record(SID, AUDIO)

    response = admin_client.get(audio_url(recording))

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Content-Length"] == str(len(AUDIO))
    assert response["Content-Disposition"] == f'inline; filename="{SID}.mp3"'
    assert body(response) == AUDIO
    [request] = fake.received("GET", "/Recordings/")
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{SID}.mp3"
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert [r.path for r in fake.requests] == [request.path]


def test_it_passes_a_players_byte_range_on(admin_client, fake, recording):
    fake.record(SID, AUDIO)

    response = admin_client.get(audio_url(recording), headers={"Range": "bytes=100-199"})

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(AUDIO)}"
    assert body(response) == AUDIO[100:200]


def test_a_marketer_may_listen(fake, recording):
    fake.record(SID, AUDIO)
    response = client_with(group="Marketers").get(audio_url(recording))
    assert body(response) == AUDIO


def test_view_call_alone_is_enough(fake, recording):
    fake.record(SID, AUDIO)
    assert body(client_with("view_call").get(audio_url(recording))) == AUDIO


def test_it_refuses_staff_who_may_not_view_calls(fake, recording):
    fake.record(SID, AUDIO)
    response = client_with("view_campaign").get(audio_url(recording))
    assert response.status_code == 403
    assert fake.requests == []


def test_it_sends_anonymous_visitors_to_the_login_page(client, fake, recording):
    fake.record(SID, AUDIO)
    response = client.get(audio_url(recording))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert fake.requests == []


def test_a_recording_twilio_does_not_have_is_a_404_page(admin_client, fake, recording):
    response = admin_client.get(audio_url(recording))

    assert response.status_code == 404
    assert texts(response, "recording-problem") == [
        f"Twilio has no recording {SID}: it was deleted, or is not ready yet."
    ]


def test_a_recording_not_in_the_log_is_a_404_page(admin_client, fake, db):
    response = admin_client.get(reverse("admin:tracking_call_recording_audio", args=[999]))
    assert response.status_code == 404
    assert fake.requests == []


def test_refused_credentials_are_a_502_page(admin_client, fake, recording):
    fake.record(SID, AUDIO)
    fake.fail_next(401, 20003, "Authenticate", path_contains="/Recordings/")

    response = admin_client.get(audio_url(recording))

    assert response.status_code == 502
    assert "Twilio refused the account credentials" in texts(response, "recording-problem")[0]


def test_twilio_out_of_reach_is_a_502_page(admin_client, fake_server, recording):
    fake_server.stop()

    response = admin_client.get(audio_url(recording))

    assert response.status_code == 502
    assert "Could not reach Twilio" in texts(response, "recording-problem")[0]


def test_missing_twilio_settings_say_what_is_missing(admin_client, fake, recording, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    response = admin_client.get(audio_url(recording))

    # Not "try again in a minute": nothing will change until the setting is there.
    assert response.status_code == 503
    assert "TWILIO_AUTH_TOKEN not set" in texts(response, "recording-problem")[0]
    assert "Try again" not in response.content.decode()
    assert fake.requests == []


def test_a_recording_sid_that_is_not_one_never_reaches_twilio(admin_client, fake, recording):
    recording.recording_sid = "RE../../Calls"
    recording.save()

    response = admin_client.get(audio_url(recording))

    assert response.status_code == 404
    assert fake.requests == []


def test_an_answer_that_is_not_audio_is_served_as_audio(admin_client, fake, recording):
    # Served from the admin's own origin, a page of HTML could run script there.
    fake.record(SID, b"<script>alert(1)</script>", content_type="text/html")

    response = admin_client.get(audio_url(recording))

    assert response["Content-Type"] == "audio/mpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
