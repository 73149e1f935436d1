"""Call-acceptance reports: the admin page, its charts and its CSV downloads (issue 4).

The figures come from tracking.selectors (aggregate queries, a scan shared by the tables that
group alike); this module only chooses the period, lays the rows out and formats them for people
(the page) or for spreadsheets (CSV).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateformat import format as format_date

from tracking import charts, phones, selectors
from tracking.models import Call, Campaign, TrackingNumber
from tracking.selectors import DESTINATION_FIGURES, FIGURES, Period, Report

DEFAULT_DAYS = 30
# A year (leap or not) is the longest period a chart of days stays readable.
MAX_DAYS = 366
# The page lists the places with most calls; the CSV download has them all.
PLACES_ON_PAGE = 25
DASH = "—"

FIGURE_HEADERS = {
    "call_count": "Calls",
    "screened": "Screened",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "no_response": "No response",
    # Not "Missed": the dashboard's missed calls are every call nobody took.
    "missed": "No answer",
    "abandoned": "Abandoned",
    "voicemail": "Voicemail",
    "after_hours": "After hours",
    "spam": "Spam",
    "acceptance_rate": "Acceptance rate",
    "connect_rate": "Connect rate",
    "avg_talk_seconds": "Avg talk time",
    # The destination table's own.
    "rung": "Rung",
    "declined": "Declined",
    "no_input": "No key pressed",
    "unreached": "No answer, busy or failed",
    "stopped": "Stopped",
}
DESTINATION_RATE_HEADER = "Take rate"
# Where a CSV header differs from the page's: the CSV has seconds, not minutes:seconds.
CSV_HEADERS = {**FIGURE_HEADERS, "avg_talk_seconds": "Avg talk seconds"}
RATES = {"acceptance_rate", "connect_rate"}
# A rate resting on fewer calls than this is flagged in the page's tables and totals.
SMALL_SAMPLE = 20
SAMPLE_BASIS = {"acceptance_rate": "screened", "connect_rate": "call_count"}
# Cells a spreadsheet would run as a formula; campaign names and labels are typed by people.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
E164 = re.compile(r"\+[0-9]{1,15}")  # a tracking number: safe, and wanted as typed


class PeriodForm(forms.Form):
    """A date range, From and To inclusive, of at most `max_days` days."""

    max_days = MAX_DAYS

    start = forms.DateField(
        label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label="To", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start.year < 1900 or end.year > 9000:
                # A period is shifted by a day and a time zone, which past year 9999 fails.
                raise forms.ValidationError("Choose dates between 1900 and 9000.")
            if start > end:
                raise forms.ValidationError("The start date is after the end date.")
            if (end - start).days + 1 > self.max_days:
                raise forms.ValidationError(
                    "Choose at most %(days)s days.", params={"days": self.max_days}
                )
        return data


class ReportForm(PeriodForm):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.only("id", "name").order_by("name"),
        required=False,
        empty_label="All campaigns",
    )


def default_period(today: date | None = None) -> Period:
    """The last DEFAULT_DAYS days, today included."""
    today = today or timezone.localdate(timezone=timezone.get_default_timezone())
    return Period(start=today - timedelta(days=DEFAULT_DAYS - 1), end=today)


def _bind(query: QueryDict) -> ReportForm:
    # Missing dates take the defaults, so a link with only ?campaign=3 still shows a report.
    data = query.copy()
    period = default_period()
    data.setdefault("start", period.start.isoformat())
    data.setdefault("end", period.end.isoformat())
    return ReportForm(data)


# Tables --------------------------------------------------------------------------------------


@dataclass
class Row:
    labels: list[str]
    figures: dict[str, Any]
    css: str = ""
    note: str = ""  # shown in small print under the first label
    key: Any = None  # the day or hour a chart slot stands for


@dataclass
class Table:
    key: str
    title: str
    label_headers: list[str]
    rows: list[Row]
    total: Row
    note: str = ""
    empty: str = "No calls in this period."
    csv_url: str = ""
    chart: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    figures: tuple[str, ...] = FIGURES

    @property
    def headers(self) -> list[str]:
        return [self.header_of(name) for name in self.figures]

    def header_of(self, name: str) -> str:
        if self.figures is DESTINATION_FIGURES and name == "acceptance_rate":
            # Accepted ÷ rung, not ÷ screened: a different figure, so a different name.
            return DESTINATION_RATE_HEADER
        return FIGURE_HEADERS[name]

    @property
    def width(self) -> int:
        return len(self.label_headers) + len(self.figures)


def _zero() -> dict[str, Any]:
    return {name: (None if name in RATES or name == "avg_talk_seconds" else 0) for name in FIGURES}


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in FIGURES}


def _campaigns(report: Report, *, human: bool) -> Table:
    sums = report.totals
    rows = [
        Row([r["name"]], _figures(r), note="" if r["is_active"] or not human else "Inactive")
        for r in report.by_campaign()
    ]
    # Calls to a Twilio number that is in no campaign: kept visible, so the rows add up to the
    # total, but never mixed into a campaign's rates.
    if report.campaign is None and sums["no_campaign"]["call_count"]:
        rows.append(Row(["Unmatched (no campaign)"], sums["no_campaign"], css="unmatched"))
    return Table(
        "campaigns",
        "By campaign",
        ["Campaign"],
        rows,
        Row(["Total"], sums["all"]),
        empty="No active campaign, and no calls in this period.",
    )


def _numbers(report: Report, *, human: bool) -> Table:
    sums = report.totals
    # On the page the label goes under the number, so the ten figures fit beside the sidebar;
    # the CSV keeps it in a column of its own.
    rows = []
    for r in report.by_number():
        if human:
            rows.append(Row([phones.national(r["phone_number"]), r["campaign__name"]], _figures(r)))
            rows[-1].note = r["label"]
        else:
            rows.append(Row([r["phone_number"], r["label"], r["campaign__name"]], _figures(r)))
    blank = [""] * (1 if human else 2)
    if sums["no_number"]["call_count"]:
        rows.append(Row(["No tracking number", *blank], sums["no_number"], css="unmatched"))
    return Table(
        "numbers",
        "By tracking number",
        ["Tracking number", "Campaign"] if human else ["Tracking number", "Label", "Campaign"],
        rows,
        Row(["Total", *blank], sums["all"]),
        empty="No active tracking number, and no calls in this period.",
    )


def _days(report: Report, *, human: bool) -> Table:
    found = {r["day"]: _figures(r) for r in report.by_day()}
    # Days without calls are rows too: a gap in the chart is information.
    rows = [
        Row(
            [format_date(day, "D, M j, Y") if human else day.isoformat()],
            found.get(day) or _zero(),
            key=day,
        )
        for day in report.period.days
    ]
    return Table("days", "By day", ["Day"], rows, Row(["Total"], report.totals["all"]))


def _hours(report: Report, *, human: bool) -> Table:
    found = {r["hour"]: _figures(r) for r in report.by_hour()}
    rows = [
        Row(
            [f"{hour:02d}:00–{(hour + 1) % 24:02d}:00" if human else f"{hour:02d}:00"],
            found.get(hour) or _zero(),
            key=hour,
        )
        for hour in range(24)
    ]
    return Table("hours", "By hour of day", ["Hour"], rows, Row(["Total"], report.totals["all"]))


def _city(name: str) -> str:
    # Twilio sends "ROUND ROCK"; every page and file writes it as people do, "Round Rock".
    return name.title() if name.isupper() else name


def _places(report: Report, *, human: bool) -> Table:
    limit = PLACES_ON_PAGE if human else None
    blank = DASH if human else ""
    rows = [
        Row(
            [
                r["caller_country"] or blank,
                r["caller_state"] or blank,
                _city(r["caller_city"]) or blank,
            ],
            _figures(r),
        )
        for r in report.by_place(limit=limit)
    ]
    note = ""
    if human and len(rows) == PLACES_ON_PAGE:
        note = f"The {PLACES_ON_PAGE} places with most calls; the CSV file lists every place."
    return Table(
        "places",
        "By caller location",
        ["Country", "State", "City"],
        rows,
        Row(["Total", "", ""], report.totals["all"]),
        note=note,
    )


def _destinations(report: Report, *, human: bool) -> Table:
    blank = DASH if human else ""
    rows = [
        Row(
            [
                r["label"] or blank,
                phones.national(r["phone_number"]) if human else r["phone_number"],
            ],
            r,
        )
        for r in report.by_destination()
    ]
    return Table(
        "destinations",
        "Acceptance by destination",
        ["Destination", "Phone number"],
        rows,
        Row(["Total", ""], report.destination_total),
        note=(
            "Every phone the period's calls rang (or were to ring), by its name and number at "
            "the time of the call. Take rate: accepted ÷ rung (every time the phone rang), "
            "unlike the campaigns' acceptance rate (accepted ÷ screened)."
            if human
            else ""
        ),
        empty="No destination rang in this period.",
        figures=DESTINATION_FIGURES,
    )


def _menu_options(report: Report, *, human: bool) -> Table:
    rows = [
        Row([r["menu_choice"] or ("Hung up in the menu" if human else "")], r)
        for r in report.by_menu_option()
    ]
    return Table(
        "menu",
        "By menu option",
        ["Menu option"],
        rows,
        Row(["Total"], report.menu_total),
        note=(
            "Calls to campaigns with a menu, by the option the caller chose (its name at the "
            "time of the call). Acceptance rate: accepted ÷ screened."
            if human
            else ""
        ),
        empty="No caller heard a menu in this period.",
        figures=selectors.MENU_FIGURES,
    )


# Every table of the page, by the key its CSV link carries.
TABLES: dict[str, Callable[..., Table]] = {
    "campaigns": _campaigns,
    "numbers": _numbers,
    "destinations": _destinations,
    "menu": _menu_options,
    "days": _days,
    "places": _places,
    "hours": _hours,
}


# Formatting ----------------------------------------------------------------------------------


def human(name: str, value: Any) -> str:
    if value is None:
        return DASH
    if name in RATES:
        return f"{value:.1%}"
    if name == "avg_talk_seconds":
        minutes, seconds = divmod(round(value), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    return f"{value:,}"


def machine(name: str, value: Any) -> str | int:
    if value is None:
        return ""
    if name in RATES:
        return f"{value:.4f}"
    if name == "avg_talk_seconds":
        return f"{value:.1f}"
    return value


def _cells(row: Row, figures: tuple[str, ...] = FIGURES) -> list[dict[str, str]]:
    headers = {**FIGURE_HEADERS}
    if figures is DESTINATION_FIGURES:
        headers["acceptance_rate"] = DESTINATION_RATE_HEADER
    cells = []
    for name in figures:
        cell = {"name": name, "header": headers[name], "text": human(name, row.figures[name])}
        basis = SAMPLE_BASIS.get(name) if figures is FIGURES else None
        if basis and row.figures[name] is not None and row.figures[basis] < SMALL_SAMPLE:
            cell["small"] = f"only {row.figures[basis]} {FIGURE_HEADERS[basis].lower()}"
        cells.append(cell)
    return cells


def _safe_text(value: str) -> str:
    if value.startswith(FORMULA_STARTS) and not E164.fullmatch(value):
        return "'" + value
    return value


def csv_response(table: Table, period: Period) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"calls-by-{table.key}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    headers = [
        table.header_of(name) if name == "acceptance_rate" else CSV_HEADERS[name]
        for name in table.figures
    ]
    writer.writerow(table.label_headers + headers)
    for row in [*table.rows, table.total]:
        writer.writerow(
            [_safe_text(label) for label in row.labels]
            + [machine(name, row.figures[name]) for name in table.figures]
        )
    return response


# Charts --------------------------------------------------------------------------------------


def _slots(rows: Iterable[Row], short: Callable[[Any], str]) -> list[charts.Slot]:
    return [
        charts.Slot(
            label=short(row.key),
            description=row.labels[0],
            calls=row.figures["call_count"],
            accepted=row.figures["accepted"],
            rate=row.figures["acceptance_rate"],
            screened=row.figures["screened"],
        )
        for row in rows
    ]


# The view ------------------------------------------------------------------------------------


def report_view(request: HttpRequest, *, admin_site) -> HttpResponse:
    """The reports page, or one of its tables as CSV with ?format=csv&table=<key>."""
    # The admin wraps this view in admin_view (staff login); the permission is checked here too
    # so the page never depends on how it is wired.
    if not request.user.has_perm("tracking.view_call"):
        raise PermissionDenied

    form = _bind(request.GET)
    valid = form.is_valid()
    if request.GET.get("format") == "csv":
        table_key = request.GET.get("table", "")
        if table_key not in TABLES:
            return HttpResponseBadRequest("Unknown table.", content_type="text/plain")
        if not valid:
            return HttpResponseBadRequest(
                form.errors.as_text(), content_type="text/plain; charset=utf-8"
            )
        period = Period(form.cleaned_data["start"], form.cleaned_data["end"])
        campaign = form.cleaned_data["campaign"]
        with selectors.report_queries():
            table = TABLES[table_key](Report(period, campaign), human=False)
        return csv_response(table, period)

    context: dict[str, Any] = {
        **admin_site.each_context(request),
        "title": "Call reports",
        "opts": Call._meta,
        "form": form,
        "time_zone": settings.TIME_ZONE,
        "small_sample": SMALL_SAMPLE,
    }
    if valid:
        context.update(_report_context(form))
    return TemplateResponse(request, "admin/tracking/reports.html", context)


def _example_number(campaign: Campaign | None) -> str | None:
    """A tracking number to try a first call on, for the page of a period without calls."""
    numbers = TrackingNumber.objects.filter(is_active=True)
    if campaign is not None:
        numbers = numbers.filter(campaign=campaign)
    return numbers.values_list("phone_number", flat=True).first()


def _report_context(form: ReportForm) -> dict[str, Any]:
    period = Period(form.cleaned_data["start"], form.cleaned_data["end"])
    campaign = form.cleaned_data["campaign"]
    filters = QueryDict(mutable=True)
    filters.update({"start": period.start.isoformat(), "end": period.end.isoformat()})
    if campaign is not None:
        filters["campaign"] = str(campaign.pk)

    report = Report(period, campaign)
    with selectors.report_queries():
        tables = {key: build(report, human=True) for key, build in TABLES.items()}
        sums = report.totals
    for key, table in tables.items():
        link = filters.copy()
        link.update({"format": "csv", "table": key})
        table.csv_url = "?" + link.urlencode()
        table.extra["rows"] = [
            {"row": row, "cells": _cells(row, table.figures)} for row in table.rows
        ]
        table.extra["total"] = _cells(table.total, table.figures)

    span = f"{format_date(period.start, 'j M Y')} to {format_date(period.end, 'j M Y')}"
    tables["days"].chart = charts.calls_chart(
        chart_id="chart-days",
        title=f"Calls and accepted calls per day, {span}",
        description="Bars: calls per day, the accepted part darker. Line: acceptance rate.",
        slots=_slots(tables["days"].rows, lambda day: format_date(day, "M j")),
    )
    tables["hours"].chart = charts.calls_chart(
        chart_id="chart-hours",
        title=f"Calls and accepted calls by hour of day ({settings.TIME_ZONE}), {span}",
        description="Bars: calls per hour of the day, the accepted part darker. "
        "Line: acceptance rate.",
        slots=_slots(tables["hours"].rows, lambda hour: f"{hour:02d}"),
    )
    return {
        "period": period,
        "campaign": campaign,
        "summary": _cells(Row(["Total"], sums["all"])),
        "no_calls": not sums["all"]["call_count"],
        "example_number": None if sums["all"]["call_count"] else _example_number(campaign),
        "tables": tables,
    }
