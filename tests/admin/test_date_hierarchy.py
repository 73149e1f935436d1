"""The call list's date hierarchy, built from the first and last call instead of a scan."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.admin.conftest import make_call
from tracking.admin.call_list import PeriodsBetweenBounds
from tracking.models import Call

CHANGELIST = reverse("admin:tracking_call_changelist")


def _calls() -> PeriodsBetweenBounds:
    return PeriodsBetweenBounds(model=Call)


def _at(number, *moments: datetime) -> None:
    for moment in moments:
        Call.objects.filter(pk=make_call(number=number).pk).update(started_at=moment)


@pytest.mark.django_db
def test_it_lists_every_month_between_the_first_and_last_call(number):
    _at(number, datetime(2025, 11, 30, 12, tzinfo=UTC), datetime(2026, 2, 3, 9, tzinfo=UTC))

    months = _calls().datetimes("started_at", "month", tzinfo=UTC)

    assert [(m.year, m.month) for m in months] == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
    assert all(m.day == 1 and m.hour == 0 for m in months)


@pytest.mark.django_db
def test_it_lists_years_and_days_and_honours_the_order(number):
    _at(number, datetime(2024, 12, 31, 23, tzinfo=UTC), datetime(2026, 1, 2, 1, tzinfo=UTC))

    years = _calls().datetimes("started_at", "year", tzinfo=UTC)
    days = _calls().filter(started_at__year=2026).datetimes("started_at", "day", tzinfo=UTC)

    assert [y.year for y in years] == [2024, 2025, 2026]
    assert [d.day for d in days] == [2]
    assert [y.year for y in _calls().datetimes("started_at", "year", "DESC", UTC)] == [
        2026,
        2025,
        2024,
    ]


@pytest.mark.django_db
def test_periods_are_local_to_the_time_zone(number):
    # 02:00 UTC on 1 March is still 28 February in Chicago.
    _at(number, datetime(2026, 3, 1, 2, tzinfo=UTC))
    chicago = ZoneInfo("America/Chicago")

    [month] = _calls().datetimes("started_at", "month", tzinfo=chicago)

    assert (month.month, month.tzinfo) == (2, chicago)


@pytest.mark.django_db
def test_it_lists_nothing_without_calls(db):
    assert _calls().datetimes("started_at", "month") == []


@pytest.mark.django_db
def test_the_filtered_list_offers_the_filtered_range(number, other_number):
    _at(number, datetime(2026, 1, 5, tzinfo=UTC))
    _at(other_number, datetime(2026, 3, 5, tzinfo=UTC))

    months = _calls().filter(campaign=number.campaign).datetimes("started_at", "month", tzinfo=UTC)

    assert [m.month for m in months] == [1]


@pytest.mark.django_db
def test_the_call_list_links_each_month_of_the_year(admin_client, number, settings):
    settings.TIME_ZONE = "UTC"
    _at(number, datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC))

    html = admin_client.get(CHANGELIST).content.decode()

    months = re.findall(r"started_at__month=(\d+)&amp;started_at__year=2026", html) or re.findall(
        r"started_at__year=2026&amp;started_at__month=(\d+)", html
    )
    assert sorted(set(months), key=int) == ["1", "2", "3"]
