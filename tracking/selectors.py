"""Reads for the call-acceptance reports: each table is one aggregate query (GROUP BY in SQL).

Every function takes a `Period` (whole days in settings.TIME_ZONE) and optionally one campaign,
and returns rows that carry the same figures (see FIGURES), so the page and the CSV downloads
treat every table alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    FilteredRelation,
    FloatField,
    Q,
    QuerySet,
)
from django.db.models.functions import Cast, ExtractHour, NullIf, TruncDate
from django.utils import timezone

from tracking.models import Call, Campaign, TrackingNumber

Outcome = Call.Outcome

# The figures of every row, in the order the page and the CSV files show them.
FIGURES = (
    "call_count",
    "screened",
    "accepted",
    "rejected",
    "no_response",
    "missed",
    "abandoned",
    "acceptance_rate",
    "connect_rate",
    "avg_talk_seconds",
)


@contextmanager
def report_queries() -> Iterator[None]:
    """Run a report's queries with settings suited to scanning many rows, on PostgreSQL.

    A report aggregates hundreds of thousands of calls: JIT compilation costs more than it
    saves on such queries, sorts and hashes should stay in memory, the covering call index is
    cheaper to read than the table, and the webhooks' short statement timeout is too short.
    `SET LOCAL` keeps all of it inside this transaction, away from the webhooks.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; "
                "SET LOCAL random_page_cost = 1.1; SET LOCAL statement_timeout = '60s'"
            )
        yield


@dataclass(frozen=True)
class Period:
    """From the start of `start` to the end of `end`, both included, in settings.TIME_ZONE."""

    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        """The half-open [from, until) instants, so a call at 23:59:59.9 of `end` counts."""
        tz = timezone.get_default_timezone()
        return (
            timezone.make_aware(datetime.combine(self.start, time.min), tz),
            timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min), tz),
        )


def figures(prefix: str = "", only: Q | None = None) -> dict[str, Aggregate]:
    """The aggregate expressions of one report row.

    `prefix` reaches the calls through a relation (e.g. "in_range__" from a campaign); `only`
    narrows the row to some of the calls, so one query can compute several rows (the totals).
    """

    def where(**lookups: Any) -> Q:
        condition = Q(**{prefix + name: value for name, value in lookups.items()})
        return condition & only if only is not None else condition

    def count(condition: Q | None = None) -> Count:
        return Count(prefix + "id", filter=condition if condition is not None else only)

    screened = where(whispered_at__isnull=False)
    accepted = where(outcome=Outcome.ACCEPTED)
    return {
        "call_count": count(),
        "screened": count(screened),
        "accepted": count(accepted),
        "rejected": count(where(outcome=Outcome.REJECTED)),
        "no_response": count(where(outcome=Outcome.NO_INPUT)),
        "missed": count(where(outcome__in=[Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED])),
        "abandoned": count(where(outcome=Outcome.ABANDONED)),
        # Only calls both screened and accepted: a call bridged without our whisper (rare, see
        # Call.derive_outcome) must not push the rate over 100 %.
        "acceptance_rate": _ratio(count(screened & accepted), count(screened)),
        "connect_rate": _ratio(count(accepted), count()),
        "avg_talk_seconds": Avg(prefix + "talk_seconds", filter=accepted),
    }


def _ratio(numerator: Count, denominator: Count) -> Cast:
    # NULLIF turns a zero denominator into NULL, and x / NULL is NULL on every database: the
    # page shows a dash where the rate means nothing, instead of failing on a division by zero.
    return Cast(numerator, FloatField()) / Cast(NullIf(denominator, 0), FloatField())


def calls_in(period: Period, campaign: Campaign | None = None) -> QuerySet[Call]:
    since, until = period.bounds()
    calls = Call.objects.filter(started_at__gte=since, started_at__lt=until)
    return calls.filter(campaign=campaign) if campaign is not None else calls


def _in_range(period: Period, campaign: Campaign | None = None) -> FilteredRelation:
    # The date range sits in the JOIN's ON clause, not in WHERE: campaigns and numbers without
    # calls in the period stay in the table (with zeros and dashes), and the join can use the
    # (campaign, started_at) index instead of reading every call ever logged.
    since, until = period.bounds()
    condition = Q(calls__started_at__gte=since, calls__started_at__lt=until)
    if campaign is not None:
        condition &= Q(calls__campaign=campaign)
    return FilteredRelation("calls", condition=condition)


def by_campaign(period: Period, campaign: Campaign | None = None) -> QuerySet[Campaign]:
    """One row per campaign: active ones and any with calls in the period (or just `campaign`).

    Calls that matched no campaign have no row here; `totals()["no_campaign"]` has theirs.
    """
    rows = (
        Campaign.objects.annotate(in_range=_in_range(period))
        .values("id", "name", "is_active")
        .annotate(**figures("in_range__"))
    )
    if campaign is not None:
        rows = rows.filter(pk=campaign.pk)
    else:
        rows = rows.filter(Q(is_active=True) | Q(call_count__gt=0))
    return rows.order_by("name", "id")


def by_number(period: Period, campaign: Campaign | None = None) -> QuerySet[TrackingNumber]:
    """One row per tracking number: active ones and any with calls in the period.

    A number counts the calls it took while it belonged to the campaign, so with `campaign` a
    number moved from another campaign shows only this campaign's calls.
    """
    rows = (
        TrackingNumber.objects.annotate(in_range=_in_range(period, campaign))
        .values("id", "phone_number", "label", "is_active", "campaign__name")
        .annotate(**figures("in_range__"))
    )
    if campaign is not None:
        rows = rows.filter(Q(campaign=campaign, is_active=True) | Q(call_count__gt=0))
    else:
        rows = rows.filter(Q(is_active=True) | Q(call_count__gt=0))
    return rows.order_by("campaign__name", "phone_number")


def by_day(period: Period, campaign: Campaign | None = None) -> QuerySet[Call]:
    """One row per local day that has calls; `day` is a date in settings.TIME_ZONE."""
    day = TruncDate("started_at", tzinfo=timezone.get_default_timezone())
    return (
        calls_in(period, campaign)
        .annotate(day=day)
        .values("day")
        .annotate(**figures())
        .order_by("day")
    )


def by_hour(period: Period, campaign: Campaign | None = None) -> QuerySet[Call]:
    """One row per local hour of the day (0-23) that has calls."""
    hour = ExtractHour("started_at", tzinfo=timezone.get_default_timezone())
    return (
        calls_in(period, campaign)
        .annotate(hour=hour)
        .values("hour")
        .annotate(**figures())
        .order_by("hour")
    )


def by_place(
    period: Period, campaign: Campaign | None = None, *, limit: int | None = None
) -> QuerySet[Call]:
    """One row per caller country, state and city, the places with most calls first."""
    rows = (
        calls_in(period, campaign)
        .values("caller_country", "caller_state", "caller_city")
        .annotate(**figures())
        .order_by("-call_count", "caller_country", "caller_state", "caller_city")
    )
    return rows[:limit] if limit is not None else rows


def totals(period: Period, campaign: Campaign | None = None) -> dict[str, dict[str, Any]]:
    """The totals row, and the rows of calls outside any campaign or any tracking number.

    One query: "all" is every call of the period, "no_campaign" the calls to a Twilio number
    that is no tracking number (Call.Outcome.UNMATCHED), "no_number" the calls without a
    tracking number (unmatched, or the number was deleted since).
    """
    parts = {
        "all": figures(),
        "no_campaign": figures(only=Q(campaign__isnull=True)),
        "no_number": figures(only=Q(tracking_number__isnull=True)),
    }
    values = calls_in(period, campaign).aggregate(
        **{
            f"{part}_{name}": expression
            for part, expressions in parts.items()
            for name, expression in expressions.items()
        }
    )
    return {part: {name: values[f"{part}_{name}"] for name in FIGURES} for part in parts}
