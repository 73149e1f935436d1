"""Every figure of every report table, the calls of each table read in one aggregate query."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.reports.conftest import (
    DAY1,
    DAY2,
    PERIOD,
    QUIET,
    RADIO,
    SPRING,
    TOTAL,
    UNMATCHED,
    at,
    figures,
)
from tracking import selectors
from tracking.models import Call, Campaign, TrackingNumber
from tracking.selectors import FIGURES, Period

TABLES = [selectors.by_campaign, selectors.by_number, selectors.by_day, selectors.by_hour]


def _figures(row: dict) -> dict:
    return {name: row[name] for name in FIGURES}


def test_by_campaign_has_every_figure_and_campaigns_without_calls(world):
    rows = list(selectors.by_campaign(PERIOD))

    # Ordered by name; "Retired" is inactive and had no calls, so it is left out.
    assert [row["name"] for row in rows] == ["Quiet", "Radio", "Spring Billboard"]
    assert [_figures(row) for row in rows] == [QUIET, RADIO, SPRING]


def test_totals_cover_every_call_and_split_out_those_outside_campaigns(world):
    sums = selectors.totals(PERIOD)

    assert sums["all"] == TOTAL
    assert sums["no_campaign"] == UNMATCHED
    assert sums["no_number"] == UNMATCHED


def test_by_number_has_every_figure(world):
    rows = list(selectors.by_number(PERIOD))

    assert [(row["phone_number"], row["campaign__name"]) for row in rows] == [
        ("+15125550103", "Quiet"),
        ("+15125550101", "Radio"),
        ("+15125550100", "Spring Billboard"),
        ("+15125550102", "Spring Billboard"),
    ]
    assert [_figures(row) for row in rows] == [
        figures(),
        RADIO,
        figures(4, 4, 2, 1, 1, 0, 0, acceptance=2 / 4, connect=2 / 4, talk=90),
        figures(3, 0, 0, 0, 0, 2, 1, acceptance=None, connect=0.0),
    ]


def test_by_day_buckets_calls_by_local_day(world):
    rows = list(selectors.by_day(PERIOD))

    assert [row["day"] for row in rows] == [DAY1, DAY2]
    assert [_figures(row) for row in rows] == [
        figures(5, 3, 4, 0, 0, 0, 1, acceptance=3 / 3, connect=4 / 5, talk=75),
        figures(7, 2, 0, 1, 1, 3, 0, acceptance=0 / 2, connect=0.0),
    ]


def test_by_hour_buckets_calls_by_local_hour(world):
    rows = list(selectors.by_hour(PERIOD))

    assert {row["hour"]: _figures(row) for row in rows} == {
        9: figures(3, 2, 1, 1, 0, 0, 1, acceptance=1 / 2, connect=1 / 3, talk=60),
        10: figures(1, 1, 1, acceptance=1.0, connect=1.0, talk=120),
        14: figures(3, 1, 0, 0, 1, 2, 0, acceptance=0.0, connect=0.0),
        16: figures(4, 1, 2, 0, 0, 1, 0, acceptance=1.0, connect=2 / 4, talk=60),
        23: UNMATCHED,
    }


def test_by_place_puts_places_with_most_calls_first(world):
    rows = list(selectors.by_place(PERIOD))

    assert [
        ((row["caller_country"], row["caller_state"], row["caller_city"]), _figures(row))
        for row in rows
    ] == [
        (("US", "TX", "AUSTIN"), figures(6, 3, 4, 0, 0, 1, 0, 1.0, 4 / 6, 75)),
        (("", "", ""), figures(2, 0, 0, 0, 0, 1, 0, None, 0.0)),
        (("US", "IL", "CHICAGO"), figures(2, 0, 0, 0, 0, 1, 1, None, 0.0)),
        (("US", "TX", "DALLAS"), figures(2, 2, 0, 1, 1, 0, 0, 0.0, 0.0)),
    ]
    assert len(selectors.by_place(PERIOD, limit=2)) == 2


@pytest.mark.parametrize(
    "read",
    [*TABLES, selectors.by_place, selectors.totals],
    ids=lambda read: read.__name__,
)
def test_each_table_reads_the_calls_in_one_aggregate_query(
    world, django_assert_max_num_queries, read
):
    for campaign in (None, world["spring"]):
        # The calls once, and for campaigns and numbers the list of them: never a query per row.
        with django_assert_max_num_queries(2) as queries:
            list(read(PERIOD, campaign))
        assert len([q for q in queries.captured_queries if "tracking_call" in q["sql"]]) == 1


def test_a_report_reads_the_calls_once_per_kind_of_grouping(world, django_assert_num_queries):
    report = selectors.Report(PERIOD)

    # Owners (campaigns, numbers, totals), hours (days, hours) and places; and the lists of
    # campaigns and numbers.
    with django_assert_num_queries(5) as queries:
        sums = report.totals
        report.by_campaign()
        report.by_number()
        report.by_day()
        report.by_hour()
        report.by_place(limit=2)

    assert len([q for q in queries.captured_queries if "tracking_call" in q["sql"]]) == 3
    assert sums["all"] == TOTAL
    assert [_figures(row) for row in report.by_campaign()] == [QUIET, RADIO, SPRING]


def test_more_campaigns_and_numbers_cost_no_more_queries(world, django_assert_num_queries):
    for n in range(5):
        campaign = Campaign.objects.create(name=f"Extra {n}")
        TrackingNumber.objects.create(phone_number=f"+1512555016{n}", campaign=campaign)
        make = Call.objects.create
        make(call_sid=f"CAextra{n}", campaign=campaign, started_at=at(DAY1, 12), outcome="busy")

    with django_assert_num_queries(2):
        rows = selectors.by_campaign(PERIOD)

    assert len(rows) == 8


def test_an_accepted_call_without_talk_time_leaves_the_average_alone(world, make_call):
    make_call("accepted", at(DAY1, 11), number=world["a1"], screened=True, talk=None)

    spring = selectors.by_campaign(PERIOD, world["spring"])[0]

    # 3 of 5 screened calls accepted now, and the average still over the two known talk times.
    assert spring["accepted"] == 3
    assert spring["acceptance_rate"] == pytest.approx(3 / 5)
    assert spring["avg_talk_seconds"] == pytest.approx(90)


def test_one_campaign_shows_only_its_calls(world):
    spring = world["spring"]

    assert [_figures(row) for row in selectors.by_campaign(PERIOD, spring)] == [SPRING]
    assert [row["phone_number"] for row in selectors.by_number(PERIOD, spring)] == [
        "+15125550100",
        "+15125550102",
    ]
    assert selectors.totals(PERIOD, spring)["all"] == SPRING
    assert selectors.totals(PERIOD, spring)["no_campaign"] == figures()
    assert [row["call_count"] for row in selectors.by_day(PERIOD, spring)] == [3, 4]


def test_a_number_moved_to_another_campaign_keeps_its_calls_where_they_were(world, make_call):
    # Calls keep the campaign they came in under; the number now belongs to Radio.
    a2 = world["a2"]
    a2.campaign = world["radio"]
    a2.save()

    radio_numbers = {
        row["phone_number"]: row["call_count"]
        for row in selectors.by_number(PERIOD, world["radio"])
    }
    spring_numbers = {
        row["phone_number"]: row["call_count"]
        for row in selectors.by_number(PERIOD, world["spring"])
    }

    assert radio_numbers == {"+15125550101": 4, "+15125550102": 0}
    assert spring_numbers == {"+15125550100": 4, "+15125550102": 3}


def test_an_empty_period_has_zeros_and_no_rates(world):
    empty = Period(date(2025, 1, 1), date(2025, 1, 31))

    assert [_figures(row) for row in selectors.by_campaign(empty)] == [figures()] * 3
    assert selectors.totals(empty)["all"] == figures()
    assert list(selectors.by_day(empty)) == []
    assert list(selectors.by_place(empty)) == []


def test_an_inactive_campaign_with_calls_in_the_period_is_listed(world):
    spring = world["spring"]
    spring.is_active = False
    spring.save()

    names = [row["name"] for row in selectors.by_campaign(PERIOD)]

    assert names == ["Quiet", "Radio", "Spring Billboard"]
    assert "Spring Billboard" not in [
        row["name"] for row in selectors.by_campaign(Period(date(2025, 1, 1), date(2025, 1, 2)))
    ]


def test_days_and_hours_are_those_of_the_configured_time_zone(settings, make_call, world):
    settings.TIME_ZONE = "America/Chicago"  # UTC-6 until DST starts on 8 March 2026
    spring = world["spring"]
    a1 = world["a1"]
    evening = date(2026, 2, 10)
    # 03:00 UTC on the 11th is 21:00 on the 10th in Chicago.
    make_call("accepted", at(evening + timedelta(days=1), 3, 0), number=a1, screened=True, talk=1)
    # 05:59 UTC on the 10th is still the 9th (23:59) in Chicago: outside the period.
    make_call("rejected", at(evening, 5, 59), number=a1, screened=True)
    # 06:00 UTC on the 10th is midnight in Chicago: the first second of the period.
    make_call("rejected", at(evening, 6, 0), number=a1, screened=True)
    period = Period(evening, evening)

    days = list(selectors.by_day(period, spring))
    hours = {row["hour"]: row["call_count"] for row in selectors.by_hour(period, spring)}

    assert [(row["day"], row["call_count"], row["accepted"]) for row in days] == [(evening, 2, 1)]
    assert hours == {0: 1, 21: 1}
    assert selectors.totals(period, spring)["all"]["call_count"] == 2


def test_hours_follow_daylight_saving_time(settings, make_call, world):
    settings.TIME_ZONE = "America/Chicago"
    a1 = world["a1"]
    dst_day = date(2026, 3, 8)  # clocks jump from 02:00 CST to 03:00 CDT
    make_call("busy", at(dst_day, 7, 30), number=a1)  # 01:30 CST
    make_call("busy", at(dst_day, 8, 30), number=a1)  # 03:30 CDT

    hours = {
        row["hour"]: row["call_count"]
        for row in selectors.by_hour(Period(dst_day, dst_day), world["spring"])
    }

    assert hours == {1: 1, 3: 1}


def test_hours_follow_the_end_of_daylight_saving_time(settings, make_call, world):
    settings.TIME_ZONE = "America/Chicago"
    a1 = world["a1"]
    day = date(2026, 11, 1)  # clocks fall back from 02:00 CDT to 01:00 CST
    make_call("busy", at(day, 6, 30), number=a1)  # 01:30 CDT
    make_call("busy", at(day, 7, 30), number=a1)  # 01:30 CST, an hour later
    make_call("busy", at(day, 8, 30), number=a1)  # 02:30 CST

    report = selectors.Report(Period(day, day), world["spring"])

    assert {row["hour"]: row["call_count"] for row in report.by_hour()} == {1: 2, 2: 1}
    assert [(row["day"], row["call_count"]) for row in report.by_day()] == [(day, 3)]


def test_days_and_hours_in_a_time_zone_half_an_hour_off_utc(settings, make_call, world):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30: a UTC hour spans two local hours
    a1 = world["a1"]
    day = date(2026, 2, 10)
    make_call("rejected", at(day - timedelta(days=1), 18, 30), number=a1)  # 00:00 on the 10th
    make_call("accepted", at(day, 5, 45), number=a1, screened=True, talk=7)  # 11:15
    make_call("rejected", at(day, 18, 29, 59), number=a1)  # 23:59:59
    make_call("busy", at(day, 18, 30), number=a1)  # 00:00 on the 11th

    report = selectors.Report(Period(day, day + timedelta(days=1)), world["spring"])

    assert [(row["day"], row["call_count"]) for row in report.by_day()] == [
        (day, 3),
        (day + timedelta(days=1), 1),
    ]
    assert {row["hour"]: row["call_count"] for row in report.by_hour()} == {0: 2, 11: 1, 23: 1}
    assert report.by_hour()[1]["avg_talk_seconds"] == pytest.approx(7)


def test_the_period_includes_both_end_days_whole():
    period = Period(DAY1, DAY2)
    since, until = period.bounds()

    assert period.days == [DAY1, DAY2]
    assert (since.isoformat(), until.isoformat()) == (
        "2026-03-02T00:00:00+00:00",
        "2026-03-04T00:00:00+00:00",
    )
