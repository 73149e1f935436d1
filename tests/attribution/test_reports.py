"""Website call reports: figures by source, medium, UTM campaign, keyword and landing page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attribution.models import CallAttribution
from tests.admin.conftest import make_call
from tracking.models import Call

Kind = CallAttribution.Kind
URL = reverse("admin:attribution_website_reports")


@pytest.fixture
def calls(ads, organic):
    pool = ads.numbers.filter(role="pool").first().number
    source_number = organic.numbers.get().number

    def call(number, source, kind, outcome, *, first=True, **values):
        row = make_call(number=number, outcome=outcome, ago=timedelta(hours=2))
        CallAttribution.objects.create(
            call=row,
            kind=kind,
            started_at=row.started_at,
            website=ads.website,
            source=source,
            first_time_caller=first,
            **values,
        )
        return row

    ad = {
        "utm_medium": "cpc",
        "utm_campaign": "spring",
        "utm_term": "plumber",
        "landing_path": "/emergency",
    }
    call(pool, ads, Kind.VISIT, Call.Outcome.ACCEPTED, **ad)
    call(pool, ads, Kind.VISIT, Call.Outcome.REJECTED, first=False, **ad)
    call(pool, ads, Kind.VISIT, Call.Outcome.NO_ANSWER, **{**ad, "utm_term": "=HYPERLINK(1)"})
    call(pool, None, Kind.UNATTRIBUTED, Call.Outcome.ACCEPTED)
    call(source_number, organic, Kind.SOURCE, Call.Outcome.ACCEPTED, first=None)
    # Not a website's call: not in these reports.
    make_call(number=source_number, outcome=Call.Outcome.ACCEPTED)


def _table(page, key):
    table = next(t for t in page.context["tables"] if t["grouping"].key == key)
    return {row["label"]: {c["name"]: c["text"] for c in row["cells"]} for row in table["rows"]}


def test_calls_by_source(marketer_client, calls):
    page = marketer_client.get(URL)
    assert page.status_code == 200
    rows = _table(page, "source")
    assert list(rows) == ["Google Ads", "Google organic", "Unattributed (pool number not held)"]
    assert rows["Google Ads"] == {
        "call_count": "3",
        "screened": "2",
        "accepted": "1",
        "acceptance_rate": "50.0%",
        "connect_rate": "33.3%",
        "first_time_callers": "2",
    }
    assert rows["Google organic"]["first_time_callers"] == "0"
    assert {c["name"]: c["text"] for c in page.context["summary"]}["call_count"] == "5"


def test_calls_by_medium_campaign_keyword_and_landing_page(marketer_client, calls):
    page = marketer_client.get(URL)
    assert _table(page, "medium")["cpc"]["call_count"] == "3"
    assert _table(page, "medium")["(not set)"]["call_count"] == "1"
    assert _table(page, "campaign")["spring"]["accepted"] == "1"
    assert set(_table(page, "keyword")) == {
        "plumber",
        "=HYPERLINK(1)",
        "(not set)",
        "Unattributed (pool number not held)",
    }
    assert _table(page, "landing")["/emergency"]["call_count"] == "3"


def test_each_table_downloads_as_csv_with_formulas_neutralised(marketer_client, calls):
    response = marketer_client.get(URL, {"format": "csv", "table": "keyword"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == [
        "Keyword (utm_term)",
        "Calls",
        "Screened",
        "Accepted",
        "Acceptance rate",
        "Connect rate",
        "First-time callers",
    ]
    assert ["'=HYPERLINK(1)", "1", "0", "0", "", "0.0000", "1"] in lines
    assert lines[-1][:2] == ["Total", "5"]


def test_an_unknown_table_is_refused(marketer_client, calls):
    assert marketer_client.get(URL, {"format": "csv", "table": "nope"}).status_code == 400


def test_one_query_per_table(admin_client, calls, django_assert_max_num_queries):
    with django_assert_max_num_queries(20) as queries:
        admin_client.get(URL)
    grouped = [q for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 5


def test_the_website_filter(marketer_client, calls, website):
    from attribution.models import Website

    other = Website.objects.create(name="Other", domains="o.example", swap_targets="+15125550100")
    page = marketer_client.get(URL, {"website": other.pk})
    assert _table(page, "source") == {}
    page = marketer_client.get(URL, {"website": website.pk})
    assert len(_table(page, "source")) == 3


def test_the_report_needs_permission(staff_client, db):
    assert staff_client.get(URL).status_code == 403


def test_the_website_list_links_to_the_reports(marketer_client, website):
    page = marketer_client.get(reverse("admin:attribution_website_changelist"))
    assert f'href="{URL}"' in page.content.decode()


def test_periods_are_relative_to_today(marketer_client, calls):
    today = timezone.localdate()
    page = marketer_client.get(
        URL,
        {
            "start": (today - timedelta(days=10)).isoformat(),
            "end": (today - timedelta(days=5)).isoformat(),
        },
    )
    assert _table(page, "source") == {}
