"""Events the database could not take are kept on disk and written once, in order, later."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.twilio_signing import twiml
from tests.whisper.steps import CALLER, TRACKING
from tracking import events, routing
from tracking.models import Call
from tracking.services import IncomingCall, Target


def _incoming_params(sid="CA100"):
    return {"CallSid": sid, "From": CALLER, "To": TRACKING, "FromCity": "AUSTIN", "FromState": "TX"}


@pytest.mark.django_db
def test_the_fallback_url_routes_from_the_cache_and_spools_the_start(twilio, number):
    routing.refresh_number(number)

    response = twiml(
        twilio.post("/twilio/voice/fallback/", {**_incoming_params(), "ErrorCode": "11200"})
    )

    assert response.find("Dial/Number").text == "+15125550199"
    assert response.find("Dial").get("answerOnBridge") == "true"
    assert Call.objects.count() == 0, "the fallback does not touch the database"
    assert [json.loads(p.read_text())["kind"] for p in events.pending()] == ["start"]

    assert events.drain().written == 1

    call = Call.objects.get()
    assert (call.call_sid, call.campaign, call.caller_city) == ("CA100", number.campaign, "AUSTIN")
    assert call.outcome == Call.Outcome.IN_PROGRESS
    assert events.pending() == []


@pytest.mark.django_db
def test_the_fallback_url_apologises_for_a_number_it_does_not_know(twilio, db):
    response = twiml(twilio.post("/twilio/voice/fallback/", _incoming_params()))

    assert [el.tag for el in response] == ["Say", "Hangup"]


@pytest.mark.django_db
def test_events_of_a_call_whose_start_is_spooled_wait_for_it(twilio, number):
    routing.refresh_number(number)
    dial = twiml(twilio.post("/twilio/voice/fallback/", _incoming_params())).find("Dial")
    whisper_url = dial.find("Number").get("url").replace("http://testserver", "")

    # The database is back for the callee's leg, but the call's row is still in the spool.
    whisper = twiml(twilio.post(whisper_url, {"CallSid": "CA200"}))

    assert whisper.find("Gather/Say").text.startswith("Call from Spring Billboard.")
    assert len(events.pending()) == 2

    assert events.drain().written == 2
    call = Call.objects.get()
    assert call.whispered_at is not None
    assert call.dial_call_sid == "CA200"


@pytest.mark.django_db
def test_replaying_an_event_twice_changes_nothing(number):
    start = {
        "call": IncomingCall(sid="CA100", called=TRACKING, caller=CALLER),
        "number_id": number.pk,
        "campaign_id": number.campaign_id,
        "targets": [Target("Front desk", "+15125550199")],
        "at": timezone.now(),
    }
    for _ in range(2):
        events.put("start", start)
        events.put("decided", {"sid": "CA100", "leg": 0, "digits": "1", "at": timezone.now()})
        events.put(
            "status_changed",
            {"sid": "CA100", "call_status": "completed", "duration_seconds": 30, "at": None},
        )

    report = events.drain()

    assert (report.written, report.waiting) == (6, 0)
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.ACCEPTED
    assert call.duration_seconds == 30


@pytest.mark.django_db
def test_spooled_times_are_the_times_things_happened(number):
    happened = timezone.now() - timedelta(minutes=7)
    events.put(
        "start",
        {
            "call": IncomingCall(sid="CA100", called=TRACKING, caller=CALLER),
            "number_id": number.pk,
            "campaign_id": number.campaign_id,
            "targets": [Target("Front desk", "+15125550199")],
            "at": happened,
        },
    )
    events.put("whispered", {"sid": "CA100", "leg": 0, "leg_sid": "CA200", "at": happened})

    events.drain()

    call = Call.objects.get()
    assert call.started_at == happened
    assert call.whispered_at == happened


@pytest.mark.django_db
def test_an_orphan_event_waits_then_is_dropped(db, settings):
    events.put("decided", {"sid": "CA404", "digits": "1", "at": timezone.now()})

    assert events.drain().waiting == 1
    assert len(events.pending()) == 1

    [path] = events.pending()
    event = json.loads(path.read_text())
    event["spooled_at"] = (timezone.now() - timedelta(days=3)).isoformat()
    path.write_text(json.dumps(event))

    assert events.drain().dropped == 1
    assert events.pending() == []


@pytest.mark.django_db
def test_a_corrupt_event_file_is_set_aside_not_replayed(db, settings):
    settings.CALL_SPOOL_DIR.mkdir(parents=True)
    (settings.CALL_SPOOL_DIR / "00000000000000000001-1-000001-start.json").write_text("{not json")

    events.drain()

    assert events.pending() == []
    assert len(list(settings.CALL_SPOOL_DIR.glob("*.bad"))) == 1


@pytest.mark.django_db
def test_the_drain_command_reports_what_it_wrote(number, capsys):
    events.put("decided", {"sid": "CA404", "digits": "1", "at": timezone.now()})

    call_command("drain_spool")

    assert "written 0, waiting 1, dropped 0" in capsys.readouterr().out
