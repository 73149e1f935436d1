"""GA4: one Measurement Protocol event per qualified call with the visitor's GA client id,
backdated to when it rang, within the 72 hours GA4 allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from conversions import services
from conversions.models import Upload
from tests.conversions.conftest import lead_call
from tests.support.fake_google import MEASUREMENT_ID, Reply
from tests.support.jobs import work

pytestmark = pytest.mark.django_db

Status = Upload.Status
GA4 = Upload.Destination.GA4
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def test_a_qualified_call_becomes_one_event_for_its_visitor(ga4, leads_campaign):
    call = lead_call(leads_campaign, ga="1234567890.1700000000", consent=(True, True))

    services.call_consider(call_sid=call.call_sid)
    work()

    assert ga4.problems == []
    [request] = ga4.collects
    assert request.query["measurement_id"] == MEASUREMENT_ID
    started_micros = (call.started_at - EPOCH) // timedelta(microseconds=1)
    assert request.body == {
        "client_id": "1234567890.1700000000",
        "timestamp_micros": started_micros,
        "consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"},
        "events": [
            {
                "name": "qualified_call",
                "params": {
                    "call_campaign": "Google Ads: drains",
                    "value": 120.0,
                    "currency": "USD",
                },
            }
        ],
    }
    upload = Upload.objects.get(call=call, destination=GA4)
    assert (upload.status, upload.attempts) == (Status.SENT, 1)
    # No Google Ads upload: it is not configured, and the call has no click id anyway.
    assert not Upload.objects.exclude(destination=GA4).exists()


def test_consent_never_given_is_sent_as_denied(ga4, leads_campaign):
    call = lead_call(leads_campaign, ga="1.2", consent=(True, None))
    services.call_consider(call_sid=call.call_sid)
    work()
    assert ga4.collects[0].body["consent"] == {
        "ad_user_data": "GRANTED",
        "ad_personalization": "DENIED",
    }


def test_a_call_older_than_72_hours_is_not_sent_and_says_why(ga4, leads_campaign):
    old = lead_call(leads_campaign, ga="1.2", ago=timedelta(hours=71, minutes=50))
    now = timezone.now()
    services.call_consider(call_sid=old.call_sid, now=now)

    services.uploads_send(destination=GA4, now=now + timedelta(minutes=15))

    upload = Upload.objects.get(call=old)
    assert upload.status == Status.SKIPPED
    assert upload.last_error == "Older than the 72 hours GA4 takes backdated events for: not sent."
    assert ga4.collects == []


def test_calls_without_a_ga_client_id_or_not_qualified_send_nothing(ga4, leads_campaign):
    for call in (
        lead_call(leads_campaign, gclid="Cj0"),
        lead_call(leads_campaign, ga="1.2", talk=10),
    ):
        services.call_consider(call_sid=call.call_sid)
    services.uploads_sweep()
    work()
    assert ga4.collects == []
    assert Upload.objects.count() == 0


def test_a_ga4_outage_is_retried_and_the_secret_never_kept(settings, ga4, leads_campaign):
    call = lead_call(leads_campaign, ga="1.2")
    ga4.collect_replies.append(Reply(503, None))
    now = timezone.now()
    services.call_consider(call_sid=call.call_sid, now=now)
    services.uploads_send(destination=GA4, now=now)

    upload = Upload.objects.get(call=call)
    assert (upload.status, upload.last_error) == (Status.PENDING, "HTTP 503")
    assert upload.next_attempt_at == now + timedelta(minutes=1)

    from tests.support.servers import free_port

    settings.GA4_MP_URL = f"http://127.0.0.1:{free_port()}"
    services.uploads_send(destination=GA4, now=upload.next_attempt_at)
    upload.refresh_from_db()
    assert "ConnectionError" in upload.last_error
    assert "mp/collect" in upload.last_error
    assert settings.GA4_API_SECRET not in upload.last_error


def test_an_event_ga4_refuses_fails_with_what_it_said(ga4, leads_campaign):
    call = lead_call(leads_campaign, ga="1.2")
    ga4.collect_replies.append(Reply(400, {"error": {"code": 400, "message": "Bad event."}}))
    services.call_consider(call_sid=call.call_sid)
    work()
    upload = Upload.objects.get(call=call)
    assert (upload.status, upload.last_error) == (Status.FAILED, "400: Bad event.")
