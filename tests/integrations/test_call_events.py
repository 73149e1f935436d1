"""Calls become signed events at a real receiver: call.started, call.completed, call.updated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from integrations import services
from integrations.models import Delivery, Endpoint, Event, EventType
from tests.support.jobs import queued, work
from tests.whisper.steps import (
    answered,
    dial_done,
    incoming,
    pressed,
    recorded,
    recording_ready,
    status,
    transcribed,
)
from tracking import events, outbox
from tracking.models import Call
from tracking.services import IncomingCall, Target, call_start

pytestmark = pytest.mark.django_db


def _accepted_call(twilio, sid: str = "CA100"):
    response = incoming(twilio, sid)
    whisper = answered(twilio, response)
    pressed(twilio, whisper, "1")
    dial_done(
        twilio, response, sid, DialCallStatus="completed", DialBridged="true", DialCallDuration="42"
    )
    status(twilio, sid)
    return response


def test_it_delivers_started_and_completed_signed_with_the_endpoints_secret(
    twilio, number, endpoint, receiver
):
    _accepted_call(twilio)
    work()

    assert [r.payload["type"] for r in receiver.received] == ["call.started", "call.completed"]
    assert all(r.verified_with == [endpoint.secret] for r in receiver.received)
    started, completed = (r.payload for r in receiver.received)
    assert started["version"] == 1
    assert started["data"]["id"] == "CA100"
    assert started["data"]["campaign"] == {"id": number.campaign_id, "name": "Spring Billboard"}
    assert started["data"]["tracking_number"]["phone_number"] == "+15125550100"
    assert started["data"]["caller"]["phone_number"] == "+13125550123"
    assert started["data"]["caller"]["city"] == "AUSTIN"
    assert started["data"]["destinations"] == [
        {"position": 0, "label": "Front desk", "phone_number": "+15125550199"}
    ]
    assert started["data"]["attribution"] is None
    data = completed["data"]
    assert (data["outcome"], data["answered_by"], data["talk_seconds"]) == (
        "accepted",
        "Front desk",
        42,
    )
    assert [d["result"] for d in data["destinations"]] == ["accepted"]
    assert data["duration_seconds"] == 61
    ids = [r.id for r in receiver.received]
    assert ids == [e.event_id for e in Event.objects.order_by("created_at", "pk")]
    assert len(set(ids)) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_retried_twilio_webhooks_make_no_second_event(twilio, number, endpoint, receiver):
    response = _accepted_call(twilio)
    incoming(twilio)  # Twilio retries the start
    status(twilio)  # and the end
    dial_done(twilio, response, DialCallStatus="completed", DialBridged="true")
    work()

    assert [r.payload["type"] for r in receiver.received] == ["call.started", "call.completed"]


def test_a_webhook_only_enqueues(twilio, number, endpoint, receiver):
    incoming(twilio)

    assert receiver.received == [], "nothing is sent while the caller waits"
    assert [job.task_name for job in queued()] == ["publish_call_events"]


def test_an_endpoint_gets_only_the_events_it_wants(twilio, number, endpoint, receiver):
    endpoint.events = [EventType.CALL_COMPLETED]
    endpoint.save()

    _accepted_call(twilio)
    work()

    assert [r.payload["type"] for r in receiver.received] == ["call.completed"]


def _sql(capture) -> list[str]:
    return [query["sql"] for query in capture.captured_queries]


def test_without_endpoints_a_call_costs_no_query_more_and_with_one_no_round_trip_more(
    twilio, number, receiver
):
    incoming(twilio, "CA098")  # warms the route and subscription caches
    with CaptureQueriesContext(connection) as started:
        incoming(twilio, "CA099")
    with CaptureQueriesContext(connection) as ended:
        status(twilio, "CA099")
    for sql in _sql(started) + _sql(ended):
        assert "integrations_" not in sql and "dbtaskresult" not in sql
    assert DBTaskResult.objects.count() == 0

    endpoint = Endpoint.objects.create(url=receiver.url, events=list(EventType.values))
    incoming(twilio, "CA100")  # reads the new subscriptions into the cache
    with CaptureQueriesContext(connection) as started_with:
        incoming(twilio, "CA101")
    with CaptureQueriesContext(connection) as ended_with:
        status(twilio, "CA101")

    # The job's row joins the write: in its statement on PostgreSQL (no round trip more), as
    # one INSERT more in its transaction on SQLite.
    more = 0 if connection.vendor == "postgresql" else 1
    assert len(_sql(started_with)) == len(_sql(started)) + more
    assert len(_sql(ended_with)) == len(_sql(ended)) + more
    assert sum("dbtaskresult" in sql for sql in _sql(started_with)) == 1
    assert sum("dbtaskresult" in sql for sql in _sql(ended_with)) == 1
    assert endpoint.is_active


def test_no_job_survives_a_rolled_back_call(db, number, endpoint):
    call = IncomingCall(sid="CA100", called="+15125550100", caller="+13125550123")
    with pytest.raises(RuntimeError), transaction.atomic():
        call_start(
            call=call,
            number_id=number.pk,
            campaign_id=number.campaign_id,
            targets=[Target("Front desk", "+15125550199")],
        )
        assert len(queued()) == 1
        raise RuntimeError("the request failed after the write")

    assert DBTaskResult.objects.count() == 0
    assert not Event.objects.exists()


def test_a_spooled_start_enqueues_its_job_when_it_is_written(number, endpoint, receiver):
    call = IncomingCall(sid="CA100", called="+15125550100", caller="+13125550123")
    events.put("start", {"call": call, "number_id": number.pk, "campaign_id": number.campaign_id})
    assert DBTaskResult.objects.count() == 0, "the database was down"

    events.drain()
    work()

    assert [r.payload["type"] for r in receiver.received] == ["call.started"]


def test_completed_waits_for_the_voicemail_transcription_then_a_late_change_is_an_update(
    twilio, number, endpoint, receiver
):
    campaign = number.campaign
    campaign.voicemail_enabled = campaign.voicemail_transcribe = True
    campaign.save()
    response = incoming(twilio)
    voicemail = dial_done(twilio, response, DialCallStatus="no-answer", DialBridged="false")
    recorded(twilio, voicemail)
    recording_ready(twilio, voicemail.find("Record").get("recordingStatusCallback"))
    status(twilio)
    work()
    assert [r.payload["type"] for r in receiver.received] == ["call.started"]
    [waiting] = queued("publish_call_events")
    assert waiting.run_after > timezone.now() + timedelta(minutes=4), "the transcription is due"

    transcribed(twilio, voicemail, "Please call me back about the quote.")
    work()

    types = [r.payload["type"] for r in receiver.received]
    assert types == ["call.started", "call.completed"]
    [message] = receiver.received[1].payload["data"]["recordings"]
    assert message["transcription"] == {
        "status": "completed",
        "text": "Please call me back about the quote.",
    }
    assert receiver.received[1].payload["data"]["outcome"] == "voicemail"

    # The job enqueued for the deadline finds nothing new: no event.
    services.call_events_publish(
        call_sid="CA100", kind=outbox.CHANGED, now=timezone.now() + timedelta(minutes=6)
    )
    assert Event.objects.count() == 2


def test_a_change_after_completion_is_sent_as_call_updated_with_what_changed(
    twilio, number, endpoint, receiver
):
    response = _accepted_call(twilio)
    work()
    number.campaign.record_calls = True
    number.campaign.save()

    dial_action = response.find("Dial").get("action")
    recording_ready(twilio, dial_action.replace("dial-done", "recording") + "&kind=conversation")
    work()

    assert [r.payload["type"] for r in receiver.received][-1] == "call.updated"
    update = receiver.received[-1].payload["data"]
    assert update["changes"] == ["recordings"]
    assert update["recordings"][0]["kind"] == "conversation"


def test_an_app_can_add_attribution_to_the_payload(twilio, number, endpoint, receiver):
    from integrations import payloads

    def source(call):
        return {"source": "google", "medium": "cpc"} if call.call_sid == "CA100" else None

    payloads.register_attribution(source)
    try:
        incoming(twilio)
        work()
    finally:
        payloads._attribution_providers.remove(source)

    assert receiver.received[0].payload["data"]["attribution"] == {
        "source": "google",
        "medium": "cpc",
    }


def test_a_new_endpoint_is_used_at_once_though_subscriptions_were_cached(twilio, number, receiver):
    incoming(twilio, "CA099")  # caches "nobody subscribes"
    endpoint = Endpoint.objects.create(url=receiver.url, events=[EventType.CALL_STARTED])
    receiver.secrets.append(endpoint.secret)

    incoming(twilio)
    work()

    assert [r.payload["data"]["id"] for r in receiver.received] == ["CA100"]


def test_an_app_that_changes_a_call_publishes_it_as_call_updated(
    twilio, number, endpoint, receiver
):
    _accepted_call(twilio)
    work()

    with transaction.atomic():  # e.g. a spam mark from the API, in its own transaction
        Call.objects.filter(call_sid="CA100").update(caller_name="SPAM LIKELY")
        outbox.publish("CA100", outbox.CHANGED)
    work()

    update = receiver.received[-1].payload
    assert update["type"] == "call.updated"
    assert update["data"]["changes"] == ["caller"]
    assert update["data"]["caller"]["name"] == "SPAM LIKELY"


def test_a_spam_mark_and_tags_are_sent_as_call_updated(twilio, number, endpoint, receiver):
    from tracking import leads, screening

    _accepted_call(twilio)
    work()

    screening.call_set_spam(sid="CA100", spam=Call.Spam.MARKED)
    work()
    update = receiver.received[-1].payload
    assert update["type"] == "call.updated"
    assert update["data"]["changes"] == ["lead", "outcome", "spam"]
    assert (update["data"]["outcome"], update["data"]["spam"]) == ("spam", "marked")
    assert update["data"]["lead"]["qualified"] is False

    leads.calls_tag(calls=Call.objects.all(), names=["callback"])
    work()
    update = receiver.received[-1].payload
    assert (update["data"]["changes"], update["data"]["tags"]) == (["tags"], ["callback"])
