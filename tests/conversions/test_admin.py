"""Each call's uploads on its page, the upload log with "Send again"."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from conversions.models import Upload
from tests.admin.html import result_rows, texts
from tests.conversions.conftest import lead_call
from tests.support.jobs import queued

pytestmark = pytest.mark.django_db

Status, Destination = Upload.Status, Upload.Destination


def test_a_calls_page_shows_each_upload_state_its_error_and_the_consent(
    marketer_client, leads_campaign
):
    call = lead_call(leads_campaign, gclid="Cj0", ga="1.2", consent=(True, None))
    Upload.objects.create(
        call=call,
        destination=Destination.GOOGLE_ADS,
        status=Status.FAILED,
        attempts=1,
        last_error="Google refused this conversion: events[0].ad_identifiers.gclid: <b>bad</b>",
    )
    Upload.objects.create(
        call=call,
        destination=Destination.GA4,
        status=Status.SENT,
        attempts=2,
        sent_at=timezone.now(),
    )

    page = marketer_client.get(reverse("admin:tracking_call_change", args=[call.pk]))

    assert page.status_code == 200
    assert texts(page, "field-destination") == ["Google Ads", "Google Analytics 4"]
    assert texts(page, "field-state") == ["Failed", "Sent"]
    assert texts(page, "field-attempts") == ["1", "2"]
    # Google's words, escaped: shown as text, never as markup.
    assert texts(page, "field-error")[0] == (
        "Google refused this conversion: events[0].ad_identifiers.gclid: <b>bad</b>"
    )
    assert texts(page, "field-consent")[0] == (
        "ad user data granted, ad personalization not said (sent as denied)"
    )


def test_the_upload_log_lists_uploads_and_sends_failed_ones_again(marketer_client, leads_campaign):
    failed = lead_call(leads_campaign, gclid="a")
    sent = lead_call(leads_campaign, gclid="b")
    Upload.objects.create(
        call=failed,
        destination=Destination.GOOGLE_ADS,
        status=Status.FAILED,
        attempts=8,
        last_error="Gave up",
    )
    Upload.objects.create(
        call=sent, destination=Destination.GOOGLE_ADS, status=Status.SENT, attempts=1
    )
    url = reverse("admin:conversions_upload_changelist")
    rows = result_rows(marketer_client.get(url))
    assert sorted(row["state"] for row in rows) == ["Failed", "Sent"]

    response = marketer_client.post(
        url,
        {
            "action": "send_again",
            "_selected_action": list(Upload.objects.values_list("pk", flat=True)),
        },
    )

    assert response.status_code == 302
    again = Upload.objects.get(call=failed)
    assert (again.status, again.attempts, again.last_error) == (Status.PENDING, 0, "")
    assert Upload.objects.get(call=sent).status == Status.SENT  # never sent twice
    assert [job.task_name for job in queued()] == ["send_uploads"]


def test_a_calls_timeline_says_where_its_conversion_went(marketer_client, leads_campaign):
    call = lead_call(leads_campaign, gclid="Cj0", ga="1.2", consent=(True, True))
    Upload.objects.create(
        call=call,
        destination=Destination.GOOGLE_ADS,
        status=Status.FAILED,
        last_error="Google refused this conversion: <b>bad</b> click id",
    )
    Upload.objects.create(
        call=call, destination=Destination.GA4, status=Status.SENT, sent_at=call.ended_at
    )

    page = marketer_client.get(reverse("admin:tracking_call_change", args=[call.pk]))

    titles = texts(page, "event-title")
    assert "Sent to Google Analytics 4 as a conversion" in titles
    assert "Google Ads refused the conversion" in titles
    # Google's words, as text.
    assert "Google refused this conversion: <b>bad</b> click id" in texts(page, "event-detail")
