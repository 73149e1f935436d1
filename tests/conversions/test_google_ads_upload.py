"""Qualified calls with a Google click id go to Google Ads through the Data Manager API, in
batches, retried, each call's state kept; checked by a fake Google over real HTTP."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from attribution.models import CallAttribution
from conversions import services
from conversions.models import Upload
from tests.conversions.conftest import lead_call
from tests.support.fake_google import Reply, google_error
from tests.support.jobs import queued, work
from tracking import screening
from tracking.models import Call

pytestmark = pytest.mark.django_db

Status = Upload.Status
ADS = Upload.Destination.GOOGLE_ADS


def _upload(call: Call) -> Upload:
    return Upload.objects.get(call=call, destination=ADS)


def test_a_qualified_call_is_sent_once_with_its_sid_value_and_consent(google_ads, leads_campaign):
    call = lead_call(leads_campaign, gclid="Cj0KCQ-abc", consent=(True, False))

    assert services.call_consider(call_sid=call.call_sid) == [ADS]
    assert services.call_consider(call_sid=call.call_sid) == []  # a second write: no second
    work()

    assert google_ads.problems == []
    [request] = google_ads.ingests
    assert request.headers["authorization"] == "Bearer ya29.fake-1"
    assert request.body["destinations"] == [
        {
            "operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
            "productDestinationId": "987654321",
        }
    ]
    [event] = request.body["events"]
    assert event == {
        "transactionId": call.call_sid,
        "eventTimestamp": call.started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "adIdentifiers": {"gclid": "Cj0KCQ-abc"},
        "conversionValue": 120.0,
        "currency": "USD",
        "eventSource": "PHONE",
        "consent": {"adUserData": "CONSENT_GRANTED", "adPersonalization": "CONSENT_DENIED"},
    }
    upload = _upload(call)
    assert (upload.status, upload.attempts, upload.last_error) == (Status.SENT, 1, "")
    assert upload.request_id == "req-1"
    assert upload.sent_at is not None


def test_consent_never_given_is_sent_as_denied_and_a_braid_in_its_own_field(
    google_ads, leads_campaign
):
    leads_campaign.lead_value = None
    leads_campaign.save()
    app = lead_call(leads_campaign, gbraid="0AAAA-app")
    web = lead_call(leads_campaign, wbraid="CjkB-web")
    both = lead_call(leads_campaign, gclid="Cj0-click", wbraid="CjkB-also")
    for call in (app, web, both):
        services.call_consider(call_sid=call.call_sid)
    work()

    assert google_ads.problems == []
    events = {event["transactionId"]: event for event in google_ads.events}
    assert events[app.call_sid]["adIdentifiers"] == {"gbraid": "0AAAA-app"}
    assert events[web.call_sid]["adIdentifiers"] == {"wbraid": "CjkB-web"}
    assert events[both.call_sid]["adIdentifiers"] == {"gclid": "Cj0-click"}
    for event in events.values():
        assert event["consent"] == {
            "adUserData": "CONSENT_DENIED",
            "adPersonalization": "CONSENT_DENIED",
        }
        assert "conversionValue" not in event and "currency" not in event


def test_calls_that_are_no_leads_or_not_from_an_ad_are_never_planned(google_ads, leads_campaign):
    calls = [
        lead_call(leads_campaign, gclid="spam", spam=Call.Spam.MARKED),
        lead_call(leads_campaign, gclid="short", talk=30),
        lead_call(leads_campaign),  # no click id
    ]
    for call in calls:
        assert services.call_consider(call_sid=call.call_sid) == []
    work()
    assert Upload.objects.count() == 0
    assert google_ads.ingests == []


def test_uploads_go_in_batches_of_googles_limit(google_ads, leads_campaign):
    started = timezone.now() - timedelta(hours=3)
    calls = Call.objects.bulk_create(
        Call(
            call_sid=f"CA{n:032x}",
            campaign=leads_campaign,
            started_at=started + timedelta(seconds=n),
            ended_at=started + timedelta(seconds=n + 200),
            answered_by="Front desk",
            talk_seconds=120,
            outcome=Call.Outcome.ACCEPTED,
        )
        for n in range(2001)
    )
    CallAttribution.objects.bulk_create(
        CallAttribution(call=call, kind="visit", started_at=call.started_at, gclid=f"g{n}")
        for n, call in enumerate(calls)
    )

    report = services.uploads_sweep()
    assert report[ADS] == 2001
    work()

    assert google_ads.problems == []
    assert [len(request.body["events"]) for request in google_ads.ingests] == [2000, 1]
    assert len({event["transactionId"] for event in google_ads.events}) == 2001
    assert Upload.objects.filter(status=Status.SENT).count() == 2001


def test_a_refused_event_fails_with_googles_words_and_the_others_still_go(
    google_ads, leads_campaign
):
    good = [lead_call(leads_campaign, gclid=f"good-{n}") for n in range(3)]
    bad = lead_call(leads_campaign, gclid="expired-click")
    google_ads.refuse.add("expired-click")

    services.uploads_sweep()
    work()

    first, second = google_ads.ingests
    assert len(first.body["events"]) == 4
    assert {e["transactionId"] for e in second.body["events"]} == {c.call_sid for c in good}
    for call in good:
        assert _upload(call).status == Status.SENT
    upload = _upload(bad)
    assert upload.status == Status.FAILED
    assert upload.last_error == (
        "Google refused this conversion: events[3].ad_identifiers.gclid: The click ID is not valid."
    )


def test_a_refusal_naming_no_event_is_narrowed_down_by_halves(google_ads, leads_campaign):
    calls = [lead_call(leads_campaign, gclid=f"click-{n}") for n in range(4)]
    google_ads.refuse_unnamed.add("click-2")

    services.uploads_sweep()
    work()

    # All four, then halves: [0, 1] goes, [2, 3] is refused again; then 2 alone, then 3.
    sizes = [len(request.body["events"]) for request in google_ads.ingests]
    assert sizes == [4, 2, 2, 1, 1]
    states = {call.call_sid: _upload(call).status for call in calls}
    assert [states[call.call_sid] for call in calls] == [
        Status.SENT,
        Status.SENT,
        Status.FAILED,
        Status.SENT,
    ]
    assert "Request contains an invalid argument." in _upload(calls[2]).last_error


def test_an_expired_token_is_refreshed_and_the_request_made_again(google_ads, leads_campaign):
    first = lead_call(leads_campaign, gclid="first")
    services.call_consider(call_sid=first.call_sid)
    work()
    google_ads.expire_tokens()

    second = lead_call(leads_campaign, gclid="second")
    services.call_consider(call_sid=second.call_sid)
    work()

    assert google_ads.problems == []
    assert len(google_ads.token_requests) == 2
    auth = [request.headers["authorization"] for request in google_ads.ingests]
    assert auth == ["Bearer ya29.fake-1", "Bearer ya29.fake-1", "Bearer ya29.fake-2"]
    assert _upload(second).status == Status.SENT


def test_a_server_error_is_retried_later_then_sent(google_ads, leads_campaign):
    call = lead_call(leads_campaign, gclid="Cj0")
    google_ads.replies.append(
        Reply(500, google_error(500, "INTERNAL", "Internal error encountered."))
    )
    now = timezone.now()

    services.call_consider(call_sid=call.call_sid, now=now)
    services.uploads_send(destination=ADS, now=now)

    upload = _upload(call)
    assert upload.status == Status.PENDING
    assert upload.attempts == 1
    assert upload.last_error == "500 INTERNAL: Internal error encountered."
    assert upload.next_attempt_at == now + timedelta(minutes=1)
    assert upload.next_attempt_at in [job.run_after for job in queued("send_uploads")]

    services.uploads_send(destination=ADS, now=now + timedelta(seconds=30))  # not yet due
    assert len(google_ads.ingests) == 1
    services.uploads_send(destination=ADS, now=now + timedelta(minutes=1))
    upload.refresh_from_db()
    assert (upload.status, upload.attempts, upload.last_error) == (Status.SENT, 2, "")


def test_too_many_requests_waits_as_long_as_google_asks(google_ads, leads_campaign):
    call = lead_call(leads_campaign, gclid="Cj0")
    google_ads.replies.append(
        Reply(
            429,
            google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded."),
            headers={"Retry-After": "600"},
        )
    )
    now = timezone.now()
    services.call_consider(call_sid=call.call_sid, now=now)
    services.uploads_send(destination=ADS, now=now)

    upload = _upload(call)
    assert upload.status == Status.PENDING
    assert upload.next_attempt_at == now + timedelta(minutes=10)
    assert upload.last_error == "429 RESOURCE_EXHAUSTED: Quota exceeded."


def test_google_unreachable_is_retried_and_given_up_after_the_last_attempt(
    settings, google_ads, leads_campaign
):
    from tests.support.servers import free_port

    settings.GOOGLE_DATA_MANAGER_URL = f"http://127.0.0.1:{free_port()}"
    call = lead_call(leads_campaign, gclid="Cj0")
    now = timezone.now()
    services.call_consider(call_sid=call.call_sid, now=now)

    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        services.uploads_send(destination=ADS, now=now)
        upload = _upload(call)
        assert upload.attempts == attempt
        assert "ConnectionError" in upload.last_error
        if upload.status == Status.PENDING:
            now = upload.next_attempt_at
    assert upload.status == Status.FAILED
    assert upload.last_error.startswith(f"Gave up after {services.MAX_ATTEMPTS} attempts.")


def test_spam_marked_before_sending_is_never_sent_and_after_sending_not_again(
    google_ads, leads_campaign
):
    early = lead_call(leads_campaign, gclid="early")
    late = lead_call(leads_campaign, gclid="late")
    services.call_consider(call_sid=late.call_sid)
    work()
    services.call_consider(call_sid=early.call_sid)

    screening.call_set_spam(sid=early.call_sid, spam=Call.Spam.MARKED)
    screening.call_set_spam(sid=late.call_sid, spam=Call.Spam.MARKED)
    work()

    assert [e["transactionId"] for e in google_ads.events] == [late.call_sid]
    upload = _upload(early)
    assert upload.status == Status.CANCELED
    assert upload.last_error.startswith("No longer a qualified lead: Spam")
    # Google has no retraction on this path: the sent one stays sent, and is not sent again.
    assert _upload(late).status == Status.SENT

    screening.call_set_spam(sid=early.call_sid, spam="")  # not spam after all
    work()
    assert _upload(early).status == Status.SENT


def test_a_worker_that_died_mid_send_leaves_the_upload_to_the_sweep(google_ads, leads_campaign):
    call = lead_call(leads_campaign, gclid="Cj0")
    now = timezone.now()
    Upload.objects.create(
        call=call,
        destination=ADS,
        status=Status.SENDING,
        attempts=1,
        claim="gone",
        lease_until=now - timedelta(seconds=1),
    )

    assert services.uploads_sweep(now=now)["recovered"] == 1
    work()

    assert _upload(call).status == Status.SENT
    assert [e["transactionId"] for e in google_ads.events] == [call.call_sid]


def test_nothing_is_planned_or_sent_when_google_ads_is_not_configured(
    google, leads_campaign, twilio, number
):
    call = lead_call(leads_campaign, gclid="Cj0")
    assert services.call_consider(call_sid=call.call_sid) == []
    assert services.uploads_sweep() == {"recovered": 0}
    assert services.uploads_send(destination=ADS) == {}

    # A call's end asks for no conversion job at all.
    from tests.whisper.steps import answered, dial_done, incoming, pressed, status

    response = incoming(twilio, "CA77")
    pressed(twilio, answered(twilio, response), "1")
    dial_done(twilio, response, "CA77", DialCallStatus="completed", DialCallDuration="90")
    status(twilio, "CA77")
    names = DBTaskResult.objects.values_list("task_path", flat=True)
    assert not [name for name in names if name.startswith("conversions.")]
    assert Upload.objects.count() == 0
    assert google.ingests == [] and google.token_requests == []


def test_a_half_configured_upload_is_off_and_the_check_says_why(settings):
    from conversions import config
    from conversions.checks import conversion_settings

    settings.GOOGLE_ADS_CUSTOMER_ID = "123-456-7890"
    settings.GOOGLE_ADS_SERVICE_ACCOUNT_JSON = '{"client_email": "x"}'
    assert config.google_ads() is None
    [warning] = conversion_settings(None)
    assert warning.id == "conversions.W001"
    assert "GOOGLE_ADS_CONVERSION_ACTION_ID is not set" in warning.msg
    assert "is not a service account's JSON key" in warning.msg


def test_a_call_ending_qualified_is_uploaded_by_the_jobs_its_end_enqueues(
    google_ads, twilio, number
):
    """Through the call log's seam (tracking.outbox): the webhook only enqueues."""
    from tests.whisper.steps import answered, dial_done, incoming, pressed, status

    response = incoming(twilio, "CA900")
    CallAttribution.objects.filter(call_id="CA900").update(gclid="Cj0-from-the-ad")
    pressed(twilio, answered(twilio, response), "1")
    dial_done(twilio, response, "CA900", DialCallStatus="completed", DialCallDuration="75")
    assert google_ads.ingests == []
    status(twilio, "CA900")
    assert google_ads.ingests == []  # nothing while Twilio waits

    work()

    assert [e["transactionId"] for e in google_ads.events] == ["CA900"]
    assert _upload(Call.objects.get(call_sid="CA900")).status == Status.SENT


def test_the_sweep_is_on_the_schedule_only_when_a_destination_is_configured(settings, google):
    from jobs.schedule import periodic_jobs

    names = {job.name for job in periodic_jobs()}
    assert "conversions.tasks.sweep_uploads" not in names
    settings.GA4_MEASUREMENT_ID = "G-ABC"
    settings.GA4_API_SECRET = "s"
    assert "conversions.tasks.sweep_uploads" in {job.name for job in periodic_jobs()}


def test_a_refusal_of_the_request_itself_keeps_every_event_waiting(google_ads, leads_campaign):
    calls = [lead_call(leads_campaign, gclid=f"click-{n}") for n in range(2)]
    google_ads.replies.append(
        Reply(
            400,
            google_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                [("destinations[0].product_destination_id", "Conversion action not found.")],
            ),
        )
    )
    now = timezone.now()
    services.uploads_sweep(now=now)
    services.uploads_send(destination=ADS, now=now)

    # The account's settings are at fault, not a call: nothing fails, all wait their retry.
    assert len(google_ads.ingests) == 1
    for call in calls:
        upload = _upload(call)
        assert (upload.status, upload.next_attempt_at) == (
            Status.PENDING,
            now + timedelta(minutes=1),
        )
        assert upload.last_error == "400 INVALID_ARGUMENT: Request contains an invalid argument."
