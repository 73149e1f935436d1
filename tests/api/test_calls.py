from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.api.conftest import NOW, make_call
from tracking.models import Call, Campaign, Recording, TrackingNumber

pytestmark = pytest.mark.django_db


def test_list_shows_calls_newest_first_with_campaign_and_number(api, number, answered_call):
    older = make_call(number, started_at=NOW - timedelta(days=3), outcome="rejected")

    response = api.get("/api/v1/calls/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["call_sid"] for row in rows] == [answered_call.call_sid, older.call_sid]
    first = rows[0]
    assert first["campaign"] == {"id": number.campaign_id, "name": "Spring Billboard"}
    assert first["tracking_number"] == {
        "id": number.pk,
        "phone_number": "+15125550100",
        "label": "I-35 billboard",
    }
    assert first["outcome"] == "accepted"
    assert first["talk_seconds"] == 95
    assert "legs" not in first


def test_detail_has_legs_and_recordings(api, answered_call):
    response = api.get(f"/api/v1/calls/{answered_call.call_sid}/")

    assert response.status_code == 200
    body = response.json()
    assert [(leg["position"], leg["label"], leg["result"]) for leg in body["legs"]] == [
        (0, "Front desk", "no_answer"),
        (1, "Owner", "accepted"),
    ]
    assert [(r["recording_sid"], r["kind"]) for r in body["recordings"]] == [
        ("RE" + "1" * 32, "conversation")
    ]
    assert body["answered_by"] == "Owner"


def test_unknown_call_is_404(api, db):
    assert api.get("/api/v1/calls/CA404/").status_code == 404
    assert api.get("/api/v1/calls/not-a-sid!/").status_code == 404


def test_cursor_pages_cover_every_call_once(api, number):
    # Some calls share a start time: the id orders them, so none is skipped or repeated.
    starts = [NOW - timedelta(minutes=n // 3) for n in range(23)]
    made = [make_call(number, started_at=start) for start in starts]

    seen, url, pages = [], "/api/v1/calls/?page_size=5", 0
    while url:
        body = api.get(url).json()
        seen += [row["call_sid"] for row in body["results"]]
        url, pages = body["next"], pages + 1

    assert pages == 5
    expected = sorted(made, key=lambda call: (call.started_at, call.pk), reverse=True)
    assert seen == [call.call_sid for call in expected]


def test_previous_link_goes_back(api, number):
    for n in range(4):
        make_call(number, started_at=NOW - timedelta(minutes=n))
    first = api.get("/api/v1/calls/?page_size=2").json()
    second = api.get(first["next"]).json()

    back = api.get(second["previous"]).json()

    assert back["results"] == first["results"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "cD0yMDI2",
        "cD1ub3QtYS1kYXRl",
        "bz14",
        "YQ",
        # p=9999-12-31T23:59:59-23:00, and a time without a zone.
        base64.b64encode(b"p=9999-12-31T23%3A59%3A59-23%3A00").decode(),
        base64.b64encode(b"p=2026-01-01+00%3A00").decode(),
    ],
)
def test_a_cursor_the_api_did_not_write_is_400(api, db, cursor):
    response = api.get(f"/api/v1/calls/?cursor={cursor}")

    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor."]}


def test_page_size_is_capped(api, number):
    for n in range(3):
        make_call(number, started_at=NOW - timedelta(minutes=n))

    assert len(api.get("/api/v1/calls/?page_size=2").json()["results"]) == 2
    assert len(api.get("/api/v1/calls/?page_size=100000").json()["results"]) == 3


@pytest.fixture
def mixed_calls(number):
    other_campaign = Campaign.objects.create(name="Radio")
    other_number = TrackingNumber.objects.create(
        phone_number="+15125550155", campaign=other_campaign
    )
    return {
        "today_accepted": make_call(number, started_at=NOW - timedelta(hours=1)),
        "yesterday_rejected": make_call(
            number, started_at=NOW - timedelta(days=1), outcome="rejected"
        ),
        "radio_missed": make_call(
            other_number,
            started_at=NOW - timedelta(days=2),
            outcome="no_answer",
            caller_number="+13125550100",
        ),
        "unmatched": make_call(None, started_at=NOW - timedelta(days=3), outcome="unmatched"),
        "other_number": other_number,
        "other_campaign": other_campaign,
    }


def sids(response) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["call_sid"] for row in response.json()["results"]}


def test_filters(api, number, mixed_calls):
    calls = mixed_calls
    day = timezone.localdate(NOW)
    assert sids(api.get(f"/api/v1/calls/?start={day}&end={day}")) == {
        calls["today_accepted"].call_sid
    }
    assert sids(api.get(f"/api/v1/calls/?end={day - timedelta(days=2)}")) == {
        calls["radio_missed"].call_sid,
        calls["unmatched"].call_sid,
    }
    assert sids(api.get(f"/api/v1/calls/?campaign={calls['other_campaign'].pk}")) == {
        calls["radio_missed"].call_sid
    }
    assert sids(api.get(f"/api/v1/calls/?number={number.pk}")) == {
        calls["today_accepted"].call_sid,
        calls["yesterday_rejected"].call_sid,
    }
    assert sids(api.get("/api/v1/calls/?outcome=rejected&outcome=no_answer")) == {
        calls["yesterday_rejected"].call_sid,
        calls["radio_missed"].call_sid,
    }
    # A caller number typed any way matches its stored E.164.
    assert sids(api.get("/api/v1/calls/", {"caller_number": "(312) 555-0100"})) == {
        calls["radio_missed"].call_sid
    }


def test_updated_since(api, mixed_calls):
    calls = mixed_calls
    since = timezone.now()
    Call.objects.filter(pk=calls["unmatched"].pk).update(updated_at=since + timedelta(seconds=1))
    Call.objects.exclude(pk=calls["unmatched"].pk).update(updated_at=since - timedelta(seconds=1))

    response = api.get("/api/v1/calls/", {"updated_since": since.isoformat()})

    assert sids(response) == {calls["unmatched"].call_sid}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=yesterday", "start"),
        ("end=2026-02-30", "end"),
        ("start=2026-06-10&end=2026-06-01", "end"),
        ("campaign=999999", "campaign"),
        ("campaign=abc", "campaign"),
        ("number=99999999999999999999999", "number"),
        ("outcome=won", "outcome"),
        ("updated_since=last+tuesday", "updated_since"),
        ("updated_since=9999-12-31T23:59:59-23:00", "updated_since"),
        ("updated_since=0001-01-01T00:00:00%2B23:00", "updated_since"),
        ("end=9999-12-31", "end"),
        ("start=0001-01-01", "start"),
        ("caller_number=" + "1" * 65, "caller_number"),
        ("caller_number=%00", "caller_number"),
    ],
)
def test_bad_filters_are_400_naming_the_field(api, db, query, field):
    response = api.get(f"/api/v1/calls/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_calls_cannot_be_written(api, answered_call):
    # As in the admin, where nobody but Twilio's webhooks writes the call log.
    assert api.post("/api/v1/calls/", {}, format="json").status_code == 403
    assert api.delete(f"/api/v1/calls/{answered_call.call_sid}/").status_code == 403
    assert Call.objects.filter(pk=answered_call.pk).exists()


def test_a_recordings_audio_comes_through_the_api(api, answered_call, fake):
    from tests.twilio_signing import ACCOUNT_SID, AUTH_TOKEN

    sid = "RE" + "1" * 32
    audio = b"ID3\x04\x00fake mp3 frames " + bytes(range(256)) * 8
    fake.record(sid, audio)
    detail = api.get(f"/api/v1/calls/{answered_call.call_sid}/").json()
    url = detail["recordings"][0]["audio_url"]
    assert url == f"http://testserver/api/v1/recordings/{sid}/audio/"

    response = api.get(url, headers={"Range": "bytes=10-19"})

    assert response.status_code == 206
    assert response["Content-Type"] == "audio/mpeg"
    assert b"".join(response.streaming_content) == audio[10:20]
    [request] = fake.received("GET", "/Recordings/")
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)


def test_a_recording_twilio_does_not_have_is_404_and_twilio_down_is_502(
    api, answered_call, fake, settings
):
    sid = "RE" + "1" * 32
    assert api.get(f"/api/v1/recordings/{sid}/audio/").status_code == 404
    assert api.get("/api/v1/recordings/RE404/audio/").status_code == 404
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"

    response = api.get(f"/api/v1/recordings/{sid}/audio/")

    assert response.status_code == 502
    assert "Could not reach Twilio" in response.json()["detail"]


def test_listening_needs_a_token_and_the_view_call_permission(nobody, answered_call):
    sid = "RE" + "1" * 32
    assert nobody.get(f"/api/v1/recordings/{sid}/audio/").status_code == 403
    assert APIClient().get(f"/api/v1/recordings/{sid}/audio/").status_code == 401


def test_an_anonymised_call_keeps_its_id_and_shows_as_updated(api, answered_call):
    from tracking import privacy

    since = timezone.now()
    Call.objects.filter(pk=answered_call.pk).update(updated_at=since - timedelta(days=1))
    Recording.objects.all().delete()  # none to delete on Twilio

    privacy.calls_anonymise(call_sids=[answered_call.call_sid])

    rows = api.get("/api/v1/calls/", {"updated_since": since.isoformat()}).json()["results"]
    assert [row["id"] for row in rows] == [answered_call.pk]
    assert rows[0]["call_sid"] != answered_call.call_sid
    assert rows[0]["caller_number"] == ""
