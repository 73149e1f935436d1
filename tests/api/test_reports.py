"""The report figures of the reports page, as JSON."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import NOW, make_call
from tracking.models import Campaign, TrackingNumber
from tracking.selectors import Period, Report

pytestmark = pytest.mark.django_db

DAY = timezone.localdate(NOW)


@pytest.fixture
def calls(number, answered_call):
    make_call(number, started_at=NOW - timedelta(hours=3), outcome="rejected", whispered_at=NOW)
    make_call(number, started_at=NOW - timedelta(days=1), outcome="voicemail")
    # Outside the period asked for.
    make_call(number, started_at=NOW - timedelta(days=40), outcome="accepted")
    radio = Campaign.objects.create(name="Radio")
    other = TrackingNumber.objects.create(phone_number="+15125550155", campaign=radio)
    make_call(other, started_at=NOW - timedelta(hours=5), outcome="no_answer")
    return radio


def test_report_has_the_pages_figures(api, number, calls):
    start = DAY - timedelta(days=6)

    response = api.get("/api/v1/reports/", {"start": start, "end": DAY})

    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"], body["campaign"]) == (str(start), str(DAY), None)
    totals = body["totals"]["all"]
    assert (totals["call_count"], totals["accepted"], totals["rejected"]) == (4, 1, 1)
    assert (totals["voicemail"], totals["missed"], totals["screened"]) == (1, 1, 2)
    assert totals["acceptance_rate"] == 0.5
    assert totals["avg_talk_seconds"] == 95
    by_campaign = {row["name"]: row["call_count"] for row in body["by_campaign"]}
    assert by_campaign == {"Radio": 1, "Spring Billboard": 3}
    assert [row["day"] for row in body["by_day"]] == [str(DAY - timedelta(days=1)), str(DAY)]
    assert [(d["label"], d["rung"], d["accepted"]) for d in body["by_destination"]] == [
        ("Front desk", 1, 0),
        ("Owner", 1, 1),
    ]
    # The same figures as the selectors behind the reports page.
    report = Report(Period(start, DAY))
    assert body["totals"] == report.totals
    assert [row["call_count"] for row in body["by_number"]] == [
        row["call_count"] for row in report.by_number()
    ]
    assert len(body["by_hour"]) == len(report.by_hour())
    assert body["by_place"][0]["call_count"] == report.by_place()[0]["call_count"]


def test_report_for_one_campaign(api, number, calls):
    response = api.get(
        "/api/v1/reports/", {"start": DAY - timedelta(days=6), "end": DAY, "campaign": calls.pk}
    )

    body = response.json()
    assert body["campaign"] == calls.pk
    assert body["totals"]["all"]["call_count"] == 1
    assert [row["name"] for row in body["by_campaign"]] == ["Radio"]


def test_report_defaults_to_the_last_30_days(api, db):
    body = api.get("/api/v1/reports/").json()

    today = timezone.localdate()
    assert (body["start"], body["end"]) == (str(today - timedelta(days=29)), str(today))


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"start": "soon"}, {"start": ["Enter a valid date."]}),
        (
            {"start": "2026-06-10", "end": "2026-06-01"},
            {"non_field_errors": ["The start date is after the end date."]},
        ),
        (
            {"start": "2024-01-01", "end": "2026-01-01"},
            {"non_field_errors": ["Choose at most 366 days."]},
        ),
        (
            {"start": "9999-12-30", "end": "9999-12-31"},
            {"non_field_errors": ["Choose dates between 1900 and 9000."]},
        ),
        (
            {"campaign": "99999"},
            {
                "campaign": [
                    "Select a valid choice. That choice is not one of the available choices."
                ]
            },
        ),
    ],
)
def test_bad_report_parameters_are_400(api, db, query, errors):
    response = api.get("/api/v1/reports/", query)

    assert response.status_code == 400
    assert response.json() == errors


def test_report_start_is_a_date(api, db):
    assert (
        api.get(
            "/api/v1/reports/", {"start": date(2026, 1, 1), "end": date(2026, 1, 31)}
        ).status_code
        == 200
    )
