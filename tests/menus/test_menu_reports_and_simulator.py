"""Reports by menu option, and the simulator playing a choice."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.admin.conftest import make_call
from tracking import selectors
from tracking.models import Call
from tracking.selectors import Period


@pytest.fixture
def menu_calls(menu_number):
    """Billing: 2 calls, both screened, 1 accepted. New customer: 1, screened, rejected.
    One caller hung up in the menu; one call to the campaign heard no menu (after hours)."""
    at = timezone.now() - timedelta(hours=1)
    Outcome = Call.Outcome
    for outcome, choice in [
        (Outcome.ACCEPTED, "Billing"),
        (Outcome.REJECTED, "Billing"),
        (Outcome.REJECTED, "New customer"),
        (Outcome.ABANDONED, ""),
    ]:
        make_call(number=menu_number, outcome=outcome, menu_choice=choice, menu_at=at)
    make_call(number=menu_number, outcome=Outcome.VOICEMAIL, after_hours=True)
    return menu_number


def _period() -> Period:
    today = timezone.localdate()
    return Period(today - timedelta(days=1), today)


@pytest.mark.django_db
def test_the_report_counts_calls_screened_and_accepted_by_option(menu_calls):
    rows = {
        row["menu_choice"]: [row[name] for name in selectors.MENU_FIGURES]
        for row in selectors.by_menu_option(_period())
    }

    assert rows == {
        "Billing": [2, 2, 1, 0.5],
        "New customer": [1, 1, 0, 0.0],
        "": [1, 0, 0, None],
    }
    assert list(rows) == ["Billing", "New customer", ""]


@pytest.mark.django_db
def test_the_menu_table_and_its_csv(admin_client, menu_calls):
    url = reverse("admin:tracking_reports")
    period = _period()
    query = {"start": period.start.isoformat(), "end": period.end.isoformat()}

    table = admin_client.get(url, query).context["tables"]["menu"]
    assert [row.labels for row in table.rows] == [
        ["Billing"],
        ["New customer"],
        ["Hung up in the menu"],
    ]
    assert table.headers == ["Calls", "Screened", "Accepted", "Acceptance rate"]

    response = admin_client.get(url, {**query, "format": "csv", "table": "menu"})
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == ["Menu option", "Calls", "Screened", "Accepted", "Acceptance rate"]
    assert lines[1] == ["Billing", "2", "2", "1", "0.5000"]
    assert lines[3] == ["", "1", "0", "0", ""]
    assert lines[-1] == ["Total", "4", "3", "1", "0.3333"]


@pytest.mark.django_db
def test_an_empty_period_has_no_menu_rows(menu_calls):
    # The calls are an hour old: two days a year before them hold none.
    year_ago = _period().start - timedelta(days=365)
    assert selectors.by_menu_option(Period(year_ago, year_ago + timedelta(days=1))) == []


def _simulate(*args: str) -> str:
    out = StringIO()
    call_command(
        "simulate_call", "--to", "+15125550100", "--from", "+13125550123", *args, stdout=out
    )
    return out.getvalue()


@pytest.mark.django_db
def test_the_simulator_presses_a_menu_key(menu_number):
    output = _simulate("--press", "1")

    assert "  The caller presses 1." in output
    assert "caller chose Billing" in output
    assert "  menu choice:  Billing" in output
    call = Call.objects.get()
    assert (call.menu_choice, call.outcome, call.answered_by) == ("Billing", "accepted", "Owner")


@pytest.mark.django_db
def test_the_simulator_says_words_retries_and_waits(menu_number):
    _simulate("--press", "say:billing please")
    assert Call.objects.get().menu_choice == "Billing"
    Call.objects.all().delete()

    output = _simulate("--press", "7", "--press", "2")
    assert "Sorry, that is not one of the options." in output
    assert Call.objects.get().menu_choice == "New customer"
    Call.objects.all().delete()

    _simulate()
    assert Call.objects.get().menu_choice == "New customer"


@pytest.mark.django_db
def test_the_simulator_hangs_up_in_the_menu(menu_number):
    output = _simulate("--press", "hang-up")

    assert "  The caller hangs up during the menu." in output
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.ABANDONED and call.left_in_menu
