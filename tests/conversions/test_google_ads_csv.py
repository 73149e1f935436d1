"""The Google Ads offline-conversion CSV: Google's template, qualified calls with a gclid only,
times in the stated zone, nothing about the caller, no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conversions.conftest import lead_call
from tracking.models import Call

pytestmark = pytest.mark.django_db

URL = "admin:conversions_google_ads_csv"
HEADER = [
    "Google Click ID",
    "Conversion Name",
    "Conversion Time",
    "Conversion Value",
    "Conversion Currency",
]


def _download(client, **params) -> list[list[str]]:
    today = timezone.localdate()
    query = {
        "start": (today - timedelta(days=6)).isoformat(),
        "end": today.isoformat(),
        "conversion_name": "Qualified call",
        **params,
    }
    response = client.get(reverse(URL), query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="google-ads-')
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_it_is_googles_template_with_the_time_zone_stated(
    settings, marketer_client, leads_campaign
):
    settings.TIME_ZONE = "America/Chicago"
    call = lead_call(leads_campaign, gclid="Cj0KCQ-abc_1")

    rows = _download(marketer_client)

    assert rows[0] == ["Parameters:TimeZone=America/Chicago"]
    assert rows[1] == HEADER
    local = call.started_at.astimezone(ZoneInfo("America/Chicago"))
    assert rows[2:] == [
        ["Cj0KCQ-abc_1", "Qualified call", local.strftime("%Y-%m-%d %H:%M:%S"), "120.00", "USD"]
    ]


def test_only_qualified_calls_with_a_gclid_are_in_it(marketer_client, leads_campaign):
    lead_call(leads_campaign, gclid="good")
    lead_call(leads_campaign, gclid="spam-marked", spam=Call.Spam.MARKED)
    lead_call(leads_campaign, gclid="blocked", spam=Call.Spam.BLOCKED, answered_by="")
    lead_call(leads_campaign, gclid="too-short", talk=20)
    lead_call(leads_campaign, gclid="not-taken", answered_by="")
    lead_call(leads_campaign)  # no click id: not from an ad
    lead_call(leads_campaign, gbraid="app-click")  # the template's column is for the gclid
    lead_call(leads_campaign, wbraid="web-click")
    lead_call(leads_campaign, gclid="last-month", ago=timedelta(days=40))

    rows = _download(marketer_client)

    assert [row[0] for row in rows[2:]] == ["good"]


def test_a_campaign_without_a_lead_value_leaves_value_and_currency_empty(
    marketer_client, leads_campaign
):
    leads_campaign.lead_value = None
    leads_campaign.save()
    lead_call(leads_campaign, gclid="Cj0")

    rows = _download(marketer_client)

    assert rows[2][0] == "Cj0"
    assert rows[2][3:] == ["", ""]


def test_no_cell_runs_as_a_formula(marketer_client, leads_campaign):
    lead_call(leads_campaign, gclid='=HYPERLINK("http://x")')
    lead_call(leads_campaign, gclid="-Cj0-dash_ok")

    rows = _download(marketer_client, conversion_name="=cmd|'/c calc'!A1")

    # A click id is written only when made of a click id's characters (none can start a
    # formula with them); a typed name is quoted.
    assert [(row[0], row[1]) for row in rows[2:]] == [("-Cj0-dash_ok", "'=cmd|'/c calc'!A1")]


def test_the_form_shows_the_range_and_name_to_choose(settings, marketer_client):
    settings.GOOGLE_ADS_CONVERSION_NAME = "Phone lead"
    response = marketer_client.get(reverse(URL))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["conversion_name"] == "Phone lead"
    assert form.initial["end"] == timezone.localdate()


def test_a_bad_range_is_refused_with_the_form(marketer_client):
    today = timezone.localdate()
    query = {"start": today, "end": today - timedelta(days=9), "conversion_name": "x"}
    response = marketer_client.get(reverse(URL), query)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["The start date is after the end date."]


def test_only_people_who_may_see_calls_download_it(client, staff_client):
    assert client.get(reverse(URL)).status_code == 302  # to the sign-in page
    assert staff_client.get(reverse(URL)).status_code == 403
