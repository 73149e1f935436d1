"""Reads for the call-acceptance reports: every figure comes from GROUP BY in SQL.

A `Report` (a `Period` of whole days in settings.TIME_ZONE, optionally one campaign) reads the
calls in at most three scans, each grouped down to a few hundred rows in the database:

- by campaign and tracking number: the campaign and number tables, and the totals;
- by hour: the day and hour tables;
- by caller place: the place table (the only one that needs the table, not just the index);

and the destinations the calls rang (their legs) in one more, for the destination table.

Each scan groups by its key *and* by outcome, with only COUNT and SUM per group, and a row's
figures are added up here from its few groups (`_tally`, `_figures`): a loop over grouped rows,
never over calls. That is what makes a report cheap at a million calls: a dozen FILTERed
aggregates on every call cost far more than the scan itself, and a scan serving several tables
saves reading the same calls again. The tables come out as lists of dicts that carry the same
figures (see FIGURES), so the page and the CSV downloads treat every table alike. The
module-level functions read one table each, for callers that need just one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, DateTimeField, Func, Q, QuerySet, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from tracking.models import Call, CallLeg, Campaign, TrackingNumber

Outcome = Call.Outcome
Result = CallLeg.Result

# The figures of every row, in the order the page and the CSV files show them.
FIGURES = (
    "call_count",
    "screened",
    "accepted",
    "rejected",
    "no_response",
    "missed",
    "abandoned",
    "voicemail",
    "after_hours",
    "spam",
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


Row = dict[str, Any]
Counts = dict[str, int]

# What the figures of a row are made of: sums that add up across groups, days or campaigns.
COUNTS = (*FIGURES[:10], "screened_accepted", "talked", "talk")
# Which figure each outcome counts in; in progress and unmatched calls count as calls only.
OUTCOME_FIGURE = {
    Outcome.ACCEPTED: "accepted",
    Outcome.REJECTED: "rejected",
    Outcome.NO_INPUT: "no_response",
    Outcome.NO_ANSWER: "missed",
    Outcome.BUSY: "missed",
    Outcome.FAILED: "missed",
    Outcome.ABANDONED: "abandoned",
    Outcome.VOICEMAIL: "voicemail",
    # After hours, nobody to ring and no message: the caller did not get through.
    Outcome.CLOSED: "missed",
    # Spam and blocked calls count as calls and as spam, and in no rate.
    Outcome.SPAM: "spam",
    Outcome.BLOCKED: "spam",
}
SPAM_OUTCOMES = {Outcome.SPAM, Outcome.BLOCKED}
PLACE = ("caller_country", "caller_state", "caller_city")

# The figures of a destination's row: what the phone did when a call rang it.
DESTINATION_FIGURES = (
    "rung",
    "accepted",
    "declined",
    "no_input",
    "unreached",
    "stopped",
    "acceptance_rate",
)
# Which figure each leg result counts in, besides "rung"; a leg never rung counts in none.
RESULT_FIGURE = {
    Result.ACCEPTED: "accepted",
    Result.REJECTED: "declined",
    Result.NO_INPUT: "no_input",
    Result.NO_ANSWER: "unreached",
    Result.BUSY: "unreached",
    Result.FAILED: "unreached",
    # The caller hung up while it rang, or another destination took the call first.
    Result.CANCELED: "stopped",
}
DESTINATION = ("label", "phone_number")
# The figures of a menu option's row: calls that chose it, and how they were taken.
MENU_FIGURES = ("call_count", "screened", "accepted", "acceptance_rate")


def calls_in(period: Period, campaign: Campaign | None = None) -> QuerySet[Call]:
    since, until = period.bounds()
    calls = Call.objects.filter(started_at__gte=since, started_at__lt=until)
    return calls.filter(campaign=campaign) if campaign is not None else calls


def legs_in(period: Period, campaign: Campaign | None = None) -> QuerySet[CallLeg]:
    """The legs (destinations planned) of the calls that started in `period`."""
    since, until = period.bounds()
    # Each leg carries its call's start and campaign: one index (callleg_started_idx), no join.
    legs = CallLeg.objects.filter(started_at__gte=since, started_at__lt=until)
    return legs.filter(campaign=campaign) if campaign is not None else legs


def _destination_figures(counts: Counts) -> Row:
    rung, accepted = counts["rung"], counts["accepted"]
    # Accepted ÷ rung: a call taken by another destination first counts against this one,
    # as it does for a phone that stayed silent; a dash for a destination never rung.
    return {
        **{name: counts[name] for name in DESTINATION_FIGURES[:-1]},
        "acceptance_rate": accepted / rung if rung else None,
    }


def grouped(calls: QuerySet[Call], *keys: str, **expressions: Any) -> QuerySet[Call]:
    """`calls` grouped by the keys, outcome and after-hours flag: tuples of the keys, then what
    `_tally` reads.

    A group is one key, one of the few outcomes and in or out of hours, so a scan of hundreds of
    thousands of calls comes back as a few hundred rows. COUNT(whispered_at) counts the
    screened calls of a group. Every column read is in the covering index call_started_idx.
    """
    return (
        calls.annotate(**expressions)
        .values(*keys, *expressions, "outcome", "after_hours")
        .annotate(
            calls=Count("*"),
            screened=Count("whispered_at"),
            talked=Count("talk_seconds"),
            talk=Sum("talk_seconds"),
        )
        .values_list(
            *keys, *expressions, "outcome", "after_hours", "calls", "screened", "talked", "talk"
        )
        .order_by()
    )


def _tally(groups: Iterable[tuple], width: int) -> dict[tuple, Counts]:
    """The COUNTS of each key (the first `width` columns of `grouped` rows), in order met."""
    tallies: dict[tuple, Counts] = {}
    for group in groups:
        key = group[:width]
        outcome, after_hours, calls, screened, talked, talk = group[width:]
        counts = tallies.get(key)
        if counts is None:
            counts = tallies[key] = dict.fromkeys(COUNTS, 0)
        counts["call_count"] += calls
        if outcome not in SPAM_OUTCOMES:
            # A spam call the whisper announced is no call the business could have taken.
            counts["screened"] += screened
        if after_hours:
            counts["after_hours"] += calls
        figure = OUTCOME_FIGURE.get(outcome)
        if figure is not None:
            counts[figure] += calls
        if outcome == Outcome.ACCEPTED:
            # Only calls both screened and accepted make the acceptance rate: a call bridged
            # without our whisper (rare, see Call.derive_outcome) must not push it over 100 %.
            counts["screened_accepted"] += screened
            # Talk time averages over the accepted calls whose talk time is known, as AVG() in
            # SQL would.
            counts["talked"] += talked
            counts["talk"] += talk or 0
    return tallies


def add_counts(tallies: Iterable[Counts]) -> Counts:
    """Several rows' COUNTS added up (days into a week, numbers into a campaign)."""
    return _add(tallies)


def figures_of(counts: Counts) -> Row:
    """A row's FIGURES (counts, rates, average talk time) from its COUNTS."""
    return _figures(counts)


def _add(tallies: Iterable[Counts]) -> Counts:
    total = dict.fromkeys(COUNTS, 0)
    for counts in tallies:
        for name, value in counts.items():
            total[name] += value
    return total


def _figures(counts: Counts) -> Row:
    """A report row's FIGURES from its COUNTS."""
    screened, accepted = counts["screened"], counts["accepted"]
    # Spam and blocked calls are left out of both rates.
    calls = counts["call_count"] - counts["spam"]
    # A rate or an average over nothing is None (a dash on the page), never 0 or an error.
    return {
        **{name: counts[name] for name in FIGURES[:10]},
        "acceptance_rate": counts["screened_accepted"] / screened if screened else None,
        "connect_rate": accepted / calls if calls else None,
        "avg_talk_seconds": counts["talk"] / counts["talked"] if counts["talked"] else None,
    }


def _utc_hour(field: str) -> Func:
    """The start of the UTC hour an instant falls in."""
    if connection.vendor == "postgresql":
        # Plain arithmetic on the stored instant. DATE_TRUNC(… AT TIME ZONE …), which TruncHour
        # writes, first turns every call into a calendar time: about as costly as the whole scan.
        return Func(
            field,
            template="date_bin('1 hour', %(expressions)s, TIMESTAMPTZ '2000-01-01 00:00:00+00')",
            output_field=DateTimeField(),
        )
    return TruncHour(field, tzinfo=UTC)


class Report:
    """The tables of one report, each read from a scan shared with the tables that need the same.

    Scans run when a table first asks for them, so a CSV download of one table reads only what
    that table needs. Run it inside `report_queries()`.
    """

    def __init__(self, period: Period, campaign: Campaign | None = None) -> None:
        self.period = period
        self.campaign = campaign

    @property
    def calls(self) -> QuerySet[Call]:
        return calls_in(self.period, self.campaign)

    @cached_property
    def _by_owner(self) -> dict[tuple, Counts]:
        """The counts of each (campaign id, tracking number id) with calls in the period."""
        return _tally(grouped(self.calls, "campaign_id", "tracking_number_id"), 2)

    @cached_property
    def _by_local_hour(self) -> list[tuple[date, int, Counts]]:
        """The counts of each hour with calls, with its local day and hour (settings.TIME_ZONE).

        The database groups by UTC hour, which costs little, and each UTC hour is mapped to its
        local hour here, which is exact as long as the UTC hour is one whole local hour: in time
        zones whose offset is a whole number of hours, DST changes included. Otherwise (e.g.
        UTC+05:30) the database groups by local hour itself.
        """
        tz = timezone.get_default_timezone()
        groups = grouped(self.calls, start=_utc_hour("started_at"))
        hours = []
        for (start,), counts in _tally(groups, 1).items():
            first = start.astimezone(tz)
            last = (start + timedelta(hours=1, microseconds=-1)).astimezone(tz)
            on_the_hour = (first.minute, first.second, first.microsecond) == (0, 0, 0)
            if not on_the_hour or first.utcoffset() != last.utcoffset():
                return self._by_local_hour_in_database(tz)
            hours.append((first.date(), first.hour, counts))
        return hours

    def _by_local_hour_in_database(self, tz: tzinfo) -> list[tuple[date, int, Counts]]:
        groups = grouped(self.calls, start=TruncHour("started_at", tzinfo=tz))
        # The local wall-clock hour: the two repeated hours of a DST change share a row.
        return [
            (start.date(), start.hour, counts) for (start,), counts in _tally(groups, 1).items()
        ]

    @cached_property
    def totals(self) -> dict[str, Row]:
        """The totals row, and the rows of calls outside any campaign or any tracking number.

        "all" is every call of the period, "no_campaign" the calls to a Twilio number that is
        no tracking number (Call.Outcome.UNMATCHED), "no_number" the calls without a tracking
        number (unmatched, or the number was deleted since).
        """
        owners = self._by_owner.items()
        return {
            "all": _figures(_add(counts for _, counts in owners)),
            "no_campaign": _figures(_add(c for (campaign, _), c in owners if campaign is None)),
            "no_number": _figures(_add(c for (_, number), c in owners if number is None)),
        }

    def by_campaign(self) -> list[Row]:
        """One row per campaign: active ones and any with calls in the period (or just `campaign`).

        Calls that matched no campaign have no row here; `totals["no_campaign"]` has theirs.
        """
        found: dict[int | None, list[Counts]] = {}
        for (campaign_id, _), counts in self._by_owner.items():
            found.setdefault(campaign_id, []).append(counts)
        campaigns = Campaign.objects.all()
        if self.campaign is not None:
            campaigns = campaigns.filter(pk=self.campaign.pk)
        else:
            campaigns = campaigns.filter(Q(is_active=True) | Q(pk__in=found.keys() - {None}))
        return [
            {**campaign, **_figures(_add(found.get(campaign["id"], ())))}
            for campaign in campaigns.values("id", "name", "is_active").order_by("name", "id")
        ]

    def by_number(self) -> list[Row]:
        """One row per tracking number: active ones and any with calls in the period.

        A number counts the calls it took while it belonged to the campaign, so with `campaign`
        a number moved from another campaign shows only this campaign's calls.
        """
        found: dict[int | None, list[Counts]] = {}
        for (_, number_id), counts in self._by_owner.items():
            found.setdefault(number_id, []).append(counts)
        active = Q(is_active=True)
        if self.campaign is not None:
            active &= Q(campaign=self.campaign)
        numbers = (
            TrackingNumber.objects.filter(active | Q(pk__in=found.keys() - {None}))
            .values("id", "phone_number", "label", "is_active", "campaign__name")
            .order_by("campaign__name", "phone_number")
        )
        return [{**number, **_figures(_add(found.get(number["id"], ())))} for number in numbers]

    def counts_by_day(self) -> dict[date, Counts]:
        """The COUNTS of each local day that has calls (add them up with `add_counts`)."""
        days: dict[date, list[Counts]] = {}
        for day, _hour, counts in self._by_local_hour:
            days.setdefault(day, []).append(counts)
        return {day: _add(days[day]) for day in sorted(days)}

    def by_day(self) -> list[Row]:
        """One row per local day that has calls; `day` is a date in settings.TIME_ZONE."""
        days: dict[date, list[Counts]] = {}
        for day, _hour, counts in self._by_local_hour:
            days.setdefault(day, []).append(counts)
        return [{"day": day, **_figures(_add(days[day]))} for day in sorted(days)]

    def by_hour(self) -> list[Row]:
        """One row per local hour of the day (0-23) that has calls."""
        hours: dict[int, list[Counts]] = {}
        for _day, hour, counts in self._by_local_hour:
            hours.setdefault(hour, []).append(counts)
        return [{"hour": hour, **_figures(_add(hours[hour]))} for hour in sorted(hours)]

    @cached_property
    def _by_destination(self) -> dict[tuple, Counts]:
        """The counts of each destination (label and number as the legs kept them), in order."""
        groups = (
            legs_in(self.period, self.campaign)
            .values(*DESTINATION, "result")
            .annotate(legs=Count("*"))
            .values_list(*DESTINATION, "result", "legs")
            .order_by(*DESTINATION)
        )
        tallies: dict[tuple, Counts] = {}
        for label, phone_number, result, legs in groups:
            counts = tallies.get((label, phone_number))
            if counts is None:
                counts = tallies[label, phone_number] = dict.fromkeys(DESTINATION_FIGURES[:-1], 0)
            figure = RESULT_FIGURE.get(result)
            if figure is not None:
                counts["rung"] += legs
                counts[figure] += legs
        return tallies

    def by_destination(self) -> list[Row]:
        """One row per destination the period's calls were to ring, by label and number."""
        return [
            {**dict(zip(DESTINATION, key, strict=True)), **_destination_figures(counts)}
            for key, counts in self._by_destination.items()
        ]

    @cached_property
    def destination_total(self) -> Row:
        """The figures of every destination together."""
        total = dict.fromkeys(DESTINATION_FIGURES[:-1], 0)
        for counts in self._by_destination.values():
            for name, value in counts.items():
                total[name] += value
        return _destination_figures(total)

    @cached_property
    def _by_menu_option(self) -> dict[tuple, Counts]:
        # Only calls that heard a menu; "" is the callers who hung up before choosing.
        return _tally(grouped(self.calls.exclude(menu_at=None), "menu_choice"), 1)

    def by_menu_option(self) -> list[Row]:
        """One row per menu option chosen in the period (by its name at the time), A to Z."""
        rows = [
            {"menu_choice": choice, **_figures(counts)}
            for (choice,), counts in self._by_menu_option.items()
        ]
        return sorted(rows, key=lambda row: (not row["menu_choice"], row["menu_choice"]))

    @cached_property
    def menu_total(self) -> Row:
        return _figures(_add(self._by_menu_option.values()))

    def by_place(self, *, limit: int | None = None) -> list[Row]:
        """One row per caller country, state and city, the places with most calls first."""
        # The database orders the places, so places with as many calls keep its collation's
        # order: the sort by calls below is stable.
        places = _tally(grouped(self.calls, *PLACE).order_by(*PLACE), len(PLACE))
        rows = [
            {**dict(zip(PLACE, place, strict=True)), **_figures(counts)}
            for place, counts in places.items()
        ]
        rows.sort(key=lambda row: -row["call_count"])
        return rows[:limit] if limit is not None else rows


# One table at a time, each from its own Report.


def by_campaign(period: Period, campaign: Campaign | None = None) -> list[Row]:
    return Report(period, campaign).by_campaign()


def by_number(period: Period, campaign: Campaign | None = None) -> list[Row]:
    return Report(period, campaign).by_number()


def by_day(period: Period, campaign: Campaign | None = None) -> list[Row]:
    return Report(period, campaign).by_day()


def by_hour(period: Period, campaign: Campaign | None = None) -> list[Row]:
    return Report(period, campaign).by_hour()


def by_place(
    period: Period, campaign: Campaign | None = None, *, limit: int | None = None
) -> list[Row]:
    return Report(period, campaign).by_place(limit=limit)


def by_destination(period: Period, campaign: Campaign | None = None) -> list[Row]:
    return Report(period, campaign).by_destination()


def by_menu_option(period: Period, campaign: Campaign | None = None) -> list[Row]:
    return Report(period, campaign).by_menu_option()


def totals(period: Period, campaign: Campaign | None = None) -> dict[str, Row]:
    return Report(period, campaign).totals
