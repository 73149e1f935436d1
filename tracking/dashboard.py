"""Reads for the dashboard on the admin index, where a marketer lands.

The last 7 and 30 whole days (to yesterday, in settings.TIME_ZONE) against the same number of
days before, calls per day, the top campaigns, first-time callers, and the call-back list. The
figures come from the reports' selectors, so a number on the dashboard is the number the reports
page shows for the same days: one scan of 60 days grouped by hour (every window and the chart),
one of 30 days grouped by campaign, one for first-time callers and one small index read for the
call-back list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Exists, Min, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from tracking.models import CALLBACK_OUTCOMES, Call, Recording
from tracking.selectors import (
    Counts,
    Period,
    Report,
    Row,
    add_counts,
    figures_of,
    report_queries,
)

WINDOWS = (7, 30)
# A rate resting on fewer calls than this is shown, but flagged as a small sample.
SMALL_SAMPLE = 20
TOP_CAMPAIGNS = 5


@dataclass(frozen=True)
class Panel:
    """A table another app adds beside the top campaigns (website attribution's top sources):
    `rows(period)` reads the last 30 days' figures, `template` shows them to users who have
    `permission`."""

    template: str
    permission: str
    rows: Callable[[Period], Any]


_panels: list[Panel] = []


def register_panel(panel: Panel) -> None:
    if panel not in _panels:
        _panels.append(panel)


CALLBACKS_SHOWN = 10
# The call-back list counts this many at most, so its count never scans a long backlog.
CALLBACKS_COUNTED = 100
MISSED_FIGURES = ("rejected", "no_response", "missed", "abandoned")


@dataclass(frozen=True)
class FigureSpec:
    key: str
    label: str
    help: str
    rate_of: str = ""  # the denominator's key, for a rate
    up_is_good: bool = True


FIGURES = (
    FigureSpec("call_count", "Calls", "Every call to a tracking number."),
    FigureSpec(
        "acceptance_rate",
        "Acceptance rate",
        "Accepted ÷ screened: of the calls whose whisper was heard (spam left out), how many "
        "were taken.",
        rate_of="screened",
    ),
    FigureSpec(
        "connect_rate",
        "Connect rate",
        "Accepted ÷ calls that are not spam: how many callers talked to someone.",
        rate_of="call_count",
    ),
    FigureSpec("accepted", "Accepted", "Taken with the accept key."),
    FigureSpec("screened", "Screened", "The person answering heard the whisper."),
    FigureSpec(
        "not_taken",
        "Missed",
        "Nobody took the call and no message was left: declined, no key, no answer, busy, "
        "failed, abandoned or after hours.",
        up_is_good=False,
    ),
    FigureSpec("voicemail", "Voicemails", "Nobody took the call; the caller left a message."),
    FigureSpec("first_time", "First-time callers", "Callers never seen before these days."),
)


@dataclass
class Figure:
    spec: FigureSpec
    value: float | int | None
    previous: float | int | None
    denominator: int | None = None  # for a rate: how many calls it rests on

    @property
    def is_rate(self) -> bool:
        return bool(self.spec.rate_of)

    @property
    def small_sample(self) -> bool:
        return self.is_rate and self.denominator is not None and self.denominator < SMALL_SAMPLE

    @property
    def text(self) -> str:
        return _text(self.value, self.is_rate)

    @property
    def previous_text(self) -> str:
        return _text(self.previous, self.is_rate)

    @property
    def change(self) -> float | None:
        """Percentage points for a rate, per cent for a count; None when it cannot be said."""
        if self.value is None or self.previous is None:
            return None
        if self.is_rate:
            return (self.value - self.previous) * 100
        if not self.previous:
            return None
        return (self.value - self.previous) / self.previous * 100

    @property
    def _shown_change(self) -> float | None:
        # As the text shows it: a tenth of a point for a rate, a whole per cent for a count.
        change = self.change
        return None if change is None else round(change, 1 if self.is_rate else 0)

    @property
    def change_text(self) -> str:
        change = self._shown_change
        if change is None:
            return "new" if self.previous == 0 and self.value else "nothing to compare"
        if change == 0:
            return "no change"
        return f"{change:+.1f} pts" if self.is_rate else f"{change:+.0f}%"

    @property
    def trend(self) -> str:
        """good, bad or flat: the colour of the change, read the right way round."""
        change = self._shown_change
        if not change:
            return "flat"
        return "good" if (change > 0) == self.spec.up_is_good else "bad"


def _text(value: float | int | None, rate: bool) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if rate else f"{value:,}"


@dataclass
class Window:
    days: int
    current: Period
    previous: Period
    figures: list[Figure]

    @property
    def key_figures(self) -> dict[str, Figure]:
        return {figure.spec.key: figure for figure in self.figures}


@dataclass
class Dashboard:
    today: date
    windows: list[Window]
    days: list[tuple[date, Row]]  # the last 30 days' figures, oldest first
    top_campaigns: list[Row]
    callbacks: list[Call]
    callbacks_count: int
    has_calls: bool
    today_calls: int
    extra: dict[str, Any] = field(default_factory=dict)
    panels: list[tuple[Panel, Any]] = field(default_factory=list)

    @property
    def callbacks_capped(self) -> bool:
        return self.callbacks_count > CALLBACKS_COUNTED - 1


def dashboard(
    *, today: date | None = None, allowed: Callable[[str], bool] = lambda permission: True
) -> Dashboard:
    """Everything the dashboard shows, as of `today` (a date in settings.TIME_ZONE), with the
    registered panels whose permission `allowed` grants."""
    today = today or timezone.localdate(timezone=timezone.get_default_timezone())
    yesterday = today - timedelta(days=1)
    longest = max(WINDOWS)
    span = Period(yesterday - timedelta(days=2 * longest - 1), today)
    with report_queries():
        by_day = Report(span).counts_by_day()
        first_days = _first_call_days(span)
        top_period = Period(yesterday - timedelta(days=longest - 1), yesterday)
        top = Report(top_period).by_campaign()
        panels = [(p, p.rows(top_period)) for p in _panels if allowed(p.permission)]
        callbacks = list(callback_list()[:CALLBACKS_SHOWN])
        callbacks_count = callback_list().order_by()[:CALLBACKS_COUNTED].count()
        has_calls = bool(by_day) or Call.objects.exists()

    def counts(period: Period) -> Counts:
        return add_counts(by_day[day] for day in period.days if day in by_day)

    def first_time(period: Period) -> int:
        return sum(first_days.get(day, 0) for day in period.days)

    windows = []
    for days in WINDOWS:
        current = Period(yesterday - timedelta(days=days - 1), yesterday)
        previous = Period(current.start - timedelta(days=days), current.start - timedelta(days=1))
        now, before = _row(counts(current)), _row(counts(previous))
        now["first_time"], before["first_time"] = first_time(current), first_time(previous)
        windows.append(Window(days, current, previous, [_figure(s, now, before) for s in FIGURES]))

    chart_days = Period(yesterday - timedelta(days=longest - 1), yesterday).days
    top = sorted((row for row in top if row["call_count"]), key=lambda row: -row["call_count"])
    return Dashboard(
        today=today,
        windows=windows,
        days=[(day, figures_of(counts(Period(day, day)))) for day in chart_days],
        top_campaigns=top[:TOP_CAMPAIGNS],
        callbacks=callbacks,
        callbacks_count=callbacks_count,
        has_calls=has_calls,
        today_calls=by_day.get(today, {}).get("call_count", 0),
        panels=panels,
    )


def _row(counts: Counts) -> Row:
    row = figures_of(counts)
    row["not_taken"] = sum(row[name] for name in MISSED_FIGURES)
    return row


def _figure(spec: FigureSpec, now: Row, before: Row) -> Figure:
    return Figure(
        spec,
        now[spec.key],
        before[spec.key],
        denominator=now[spec.rate_of] if spec.rate_of else None,
    )


def _first_call_days(span: Period) -> dict[date, int]:
    """How many callers called for the first time ever on each day of `span`.

    One GROUP BY over every call's number and start (the index call_caller_started_idx holds
    both), kept to the callers whose first call is in the span.
    """
    since, until = span.bounds()
    firsts = (
        Call.objects.filter(caller_number__startswith="+")
        .values("caller_number")
        .annotate(first=Min("started_at"))
        .filter(first__gte=since, first__lt=until)
        .values_list("first", flat=True)
        .order_by()
    )
    zone = timezone.get_default_timezone()
    days: dict[date, int] = {}
    for first in firsts:
        day = timezone.localtime(first, zone).date()
        days[day] = days.get(day, 0) + 1
    return days


def callback_list() -> QuerySet[Call]:
    """Missed calls and voicemails nobody has dealt with, newest first.

    Only callers with a number to call back; a caller who called again later and got through
    needs no call back. The partial index call_callback_idx holds exactly these outcomes.
    """
    got_through_later = Call.objects.filter(
        caller_number=OuterRef("caller_number"),
        started_at__gt=OuterRef("started_at"),
        outcome=Call.Outcome.ACCEPTED,
    )
    return (
        Call.objects.filter(
            outcome__in=CALLBACK_OUTCOMES,
            callback_done_at__isnull=True,
            campaign__isnull=False,
            caller_number__startswith="+",
        )
        .filter(~Exists(got_through_later))
        .select_related("campaign", "tracking_number")
        .prefetch_related(
            Prefetch(
                "recordings",
                queryset=Recording.objects.filter(kind=Recording.Kind.VOICEMAIL),
                to_attr="voicemails",
            )
        )
        .order_by("-started_at")
    )


def local_label(moment: datetime, now: Callable[[], datetime] = timezone.now) -> str:
    """ "Today 14:05", "Yesterday 09:12" or "Mon Nov 30, 16:40", in settings.TIME_ZONE."""
    zone = timezone.get_default_timezone()
    local, today = timezone.localtime(moment, zone), timezone.localtime(now(), zone).date()
    if local.date() == today:
        return f"Today {local:%H:%M}"
    if local.date() == today - timedelta(days=1):
        return f"Yesterday {local:%H:%M}"
    return f"{local:%a %b} {local.day}, {local:%H:%M}"
