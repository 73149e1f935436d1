from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests.admin.conftest import make_call
from tests.admin.html import result_rows, texts
from tracking.admin.call_export import csv_value
from tracking.admin.call_list import CappedCountPaginator
from tracking.admin.calls import CallAdmin
from tracking.models import Call

Outcome = Call.Outcome
CHANGELIST = reverse("admin:tracking_call_changelist")
EXPORT = reverse("admin:tracking_call_export")


def exported(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="calls-')
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_it_lists_calls_newest_first_with_what_marketers_need(admin_client, number):
    make_call(number=number, outcome=Outcome.REJECTED, ago=timedelta(hours=3))
    make_call(
        number=number,
        outcome=Outcome.ACCEPTED,
        ago=timedelta(hours=1),
        caller_number="+13125550123",
        caller_name="SMITH JOHN",
        caller_city="AUSTIN",
        caller_state="TX",
        caller_country="US",
        talk_seconds=125,
    )
    make_call(number=None, outcome=Outcome.UNMATCHED, ago=timedelta(hours=2))

    rows = result_rows(admin_client.get(CHANGELIST))

    assert [row["outcome_label"] for row in rows] == ["Accepted", "Unmatched", "Rejected"]
    # Five columns: where the call came from and what became of it, details in small print;
    # names and places as people write them.
    assert rows[0] == rows[0] | {
        "source": "Spring Billboard",
        "source_note": "I-35 billboard",
        "caller": "(312) 555-0123 · Smith John",
        "caller_note": "Austin, TX, US",
    }
    assert rows[1]["source"] == "No campaign"
    assert rows[1]["taken_by"] == "—"


def test_it_labels_each_outcome_with_its_own_colour_class(admin_client, number):
    make_call(number=number, outcome=Outcome.NO_ANSWER)
    content = admin_client.get(CHANGELIST).content.decode()
    assert '<span class="call-outcome call-outcome-no_answer">No answer</span>' in content
    assert 'href="/static/tracking/admin.css"' in content
    css = Path(finders.find("tracking/admin.css")).read_text()
    for outcome in Outcome.values:
        assert f".call-outcome-{outcome}" in css


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"outcome__exact": "busy"}, {"busy-tx"}),
        ({"state": "TX"}, {"busy-tx", "accepted-tx-other"}),
        ({"country": "CA"}, {"rejected-ca"}),
        ({"country": "unknown"}, {"unknown"}),
        ({"country": "US", "state": "CA"}, {"accepted-ca-state"}),
    ],
)
def test_it_filters_by_outcome_country_and_state(admin_client, number, params, expected):
    def add(name, outcome, country, state):
        make_call(
            number=number,
            outcome=outcome,
            caller_name=name,
            caller_country=country,
            caller_state=state,
        )

    add("busy-tx", Outcome.BUSY, "US", "TX")
    add("accepted-tx-other", Outcome.ACCEPTED, "US", "TX")
    add("rejected-ca", Outcome.REJECTED, "CA", "ON")
    add("accepted-ca-state", Outcome.ACCEPTED, "US", "CA")
    add("unknown", Outcome.ACCEPTED, "", "")

    rows = result_rows(admin_client.get(CHANGELIST, params))

    assert {row["caller"].split(" · ")[-1] for row in rows} == expected


def test_it_filters_by_campaign(admin_client, number, other_number):
    make_call(number=number)
    make_call(number=other_number)
    rows = result_rows(
        admin_client.get(CHANGELIST, {"campaign__id__exact": other_number.campaign.pk})
    )
    assert [row["source"] for row in rows] == ["Radio Spot"]


def test_it_offers_the_states_of_the_chosen_country(admin_client, db):
    us = admin_client.get(CHANGELIST).content.decode()
    canada = admin_client.get(CHANGELIST, {"country": "CA"}).content.decode()
    assert "?state=TX" in us and "state=ON" not in us
    assert "state=ON" in canada


def test_it_finds_a_call_by_caller_number_typed_any_way(admin_client, number):
    make_call(number=number, caller_number="+13125550123", caller_name="wanted")
    make_call(number=number, caller_number="+13125550124", caller_name="other")

    for term in ["(312) 555-0123", "312.555.0123", "+13125550123"]:
        rows = result_rows(admin_client.get(CHANGELIST, {"q": term}))
        assert [row["caller"] for row in rows] == ["(312) 555-0123 · wanted"], term


def test_it_finds_a_call_by_the_start_of_the_caller_number(admin_client, number):
    make_call(number=number, caller_number="+13125550123")
    make_call(number=number, caller_number="+14155550123")
    rows = result_rows(admin_client.get(CHANGELIST, {"q": "+1312"}))
    assert [row["caller"] for row in rows] == ["(312) 555-0123"]


def test_it_finds_a_call_by_its_sid_or_the_start_of_it(admin_client, number):
    wanted = make_call(number=number, caller_name="wanted", call_sid="CA1ad4" + "0" * 26)
    make_call(number=number, caller_name="other", call_sid="CA9e77" + "0" * 26)
    for term in [wanted.call_sid, "CA1ad4", "ca1AD4"]:
        rows = result_rows(admin_client.get(CHANGELIST, {"q": term}))
        assert [row["caller"] for row in rows] == ["Unknown number · wanted"], term


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("555-0165", ["(312) 555-0165 · wanted"]),  # part of the caller's number
        ("5550165", ["(312) 555-0165 · wanted"]),
        ("wante", ["(312) 555-0165 · wanted"]),  # part of the caller's name
        ("round ro", ["(312) 555-0165 · wanted"]),  # part of the city, any case
        ("billboard", ["(312) 555-0166 · other", "(312) 555-0165 · wanted"]),  # the label
        ("Spring", ["(312) 555-0166 · other", "(312) 555-0165 · wanted"]),  # the campaign
        ("zz", []),  # too short to mean anything: nothing, rather than half the table
    ],
)
def test_it_finds_calls_by_part_of_a_number_a_name_a_city_or_a_label(
    admin_client, number, term, expected
):
    make_call(
        number=number,
        caller_number="+13125550165",
        caller_name="wanted",
        caller_city="ROUND ROCK",
        ago=timedelta(hours=2),
    )
    make_call(number=number, caller_number="+13125550166", caller_name="other")
    rows = result_rows(admin_client.get(CHANGELIST, {"q": term}))
    assert [row["caller"] for row in rows] == expected


def test_the_call_list_never_counts_the_whole_table(admin_client, number, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    monkeypatch.setattr(CallAdmin, "list_per_page", 2)
    for _ in range(5):
        make_call(number=number, outcome=Outcome.REJECTED)
    make_call(number=number, outcome=Outcome.BUSY)

    everything = admin_client.get(CHANGELIST)
    busy = admin_client.get(CHANGELIST, {"outcome__exact": "busy"})

    assert texts(everything, "call-count") == ["More than 3 calls."]
    assert len(result_rows(everything)) == 2
    assert texts(busy, "call-count") == ["1 call"]


def test_the_paginator_counts_no_further_than_its_cap(number, django_assert_num_queries):
    for _ in range(4):
        make_call(number=number)
    paginator = CappedCountPaginator(Call.objects.order_by("-started_at"), 2)
    paginator.cap = 3
    with django_assert_num_queries(1) as queries:
        assert (paginator.count, paginator.capped, paginator.num_pages) == (3, True, 2)
    assert "LIMIT 4" in queries.captured_queries[0]["sql"]
    exact = CappedCountPaginator(Call.objects.filter(outcome="accepted"), 2)
    assert (exact.count, exact.capped) == (4, False)


def test_the_csv_export_streams_the_filtered_calls(admin_client, number, other_number):
    make_call(
        number=number,
        outcome=Outcome.ACCEPTED,
        caller_number="+13125550123",
        caller_city="AUSTIN",
        talk_seconds=42,
    )
    make_call(number=number, outcome=Outcome.REJECTED)
    make_call(number=other_number, outcome=Outcome.ACCEPTED)

    rows = exported(admin_client.get(EXPORT, {"campaign__id__exact": number.campaign.pk}))
    assert len(rows) == 2

    rows = exported(
        admin_client.get(
            EXPORT, {"campaign__id__exact": number.campaign.pk, "outcome__exact": "accepted"}
        )
    )
    assert len(rows) == 1
    row = rows[0]
    call = Call.objects.get(caller_number="+13125550123")
    assert row["Call SID"] == call.call_sid
    assert row["Campaign"] == "Spring Billboard"
    assert row["Tracking number"] == "+15125550100"
    assert row["Caller number"] == "+13125550123"
    assert row["City"] == "AUSTIN"
    assert row["Outcome"] == "accepted"
    assert row["Talk seconds"] == "42"
    assert row["Whispered at"] == csv_value(call.whispered_at)


def test_the_csv_export_follows_the_search_and_ignores_the_page(admin_client, number):
    wanted = make_call(number=number, caller_number="+13125550123")
    make_call(number=number, caller_number="+14155550123")
    rows = exported(admin_client.get(EXPORT, {"q": "(312) 555-0123", "p": "7"}))
    assert [row["Call SID"] for row in rows] == [wanted.call_sid]


def test_the_csv_export_keeps_every_row_in_order(admin_client, number):
    calls = [make_call(number=number, ago=timedelta(minutes=minutes)) for minutes in range(250)]
    rows = exported(admin_client.get(EXPORT))
    assert [row["Call SID"] for row in rows] == [call.call_sid for call in calls]


def test_the_csv_export_defuses_spreadsheet_formulas(admin_client, number):
    make_call(number=number, caller_name="=HYPERLINK(1)", caller_number="+13125550123")
    row = exported(admin_client.get(EXPORT))[0]
    assert row["Caller name"] == "'=HYPERLINK(1)"
    assert row["Caller number"] == "+13125550123"


def test_the_export_link_keeps_the_current_filters(admin_client, number):
    make_call(number=number)
    content = admin_client.get(CHANGELIST, {"outcome__exact": "busy"}).content.decode()
    assert f'href="{EXPORT}?outcome__exact=busy"' in content


def test_the_csv_export_is_refused_without_view_call(staff_client, db):
    assert staff_client.get(EXPORT).status_code == 403


def test_the_csv_export_is_allowed_with_view_call_alone(number):
    user = User.objects.create_user("analyst", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_call"))
    client = Client()
    client.force_login(user)
    make_call(number=number)
    assert len(exported(client.get(EXPORT))) == 1


def test_the_marketer_sees_the_export_and_the_call_detail(marketer_client, number):
    call = make_call(number=number, caller_number="+13125550123")
    assert len(exported(marketer_client.get(EXPORT))) == 1
    detail = marketer_client.get(reverse("admin:tracking_call_change", args=[call.pk]))
    assert detail.status_code == 200
    assert call.call_sid in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()
