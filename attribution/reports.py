"""Website call reports: calls, screened, accepted, acceptance and connect rates and first-time
callers by source, medium, UTM campaign, keyword and landing page, with CSV downloads.

The figures come from the same grouped scans as the call reports (tracking.selectors), over the
calls of a website, joined to their attribution: one query per table.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.template.response import TemplateResponse

from attribution.models import CallAttribution, Website
from tracking import reports, selectors
from tracking.models import Call
from tracking.selectors import Period

FIGURES = (
    "call_count",
    "screened",
    "accepted",
    "acceptance_rate",
    "connect_rate",
    "first_time_callers",
)
HEADERS = {**reports.FIGURE_HEADERS, "first_time_callers": "First-time callers"}
NOT_SET = "(not set)"

Kind = CallAttribution.Kind
KIND_LABELS = {
    Kind.UNATTRIBUTED: "Unattributed (pool number not held)",
}


@dataclass(frozen=True)
class Grouping:
    key: str
    title: str
    header: str
    field: str


GROUPINGS = [
    Grouping("source", "By source", "Source", "attribution__source__name"),
    Grouping("medium", "By medium", "Medium (utm_medium)", "attribution__utm_medium"),
    Grouping("campaign", "By UTM campaign", "Campaign (utm_campaign)", "attribution__utm_campaign"),
    Grouping("keyword", "By keyword", "Keyword (utm_term)", "attribution__utm_term"),
    Grouping("landing", "By landing page", "Landing page", "attribution__landing_path"),
]
BY_KEY = {grouping.key: grouping for grouping in GROUPINGS}


class WebsiteReportForm(reports.ReportForm):
    website = forms.ModelChoiceField(
        queryset=Website.objects.only("id", "name").order_by("name"),
        required=False,
        empty_label="All websites",
    )


def website_calls(period: Period, form_data: dict[str, Any]) -> QuerySet[Call]:
    calls = selectors.calls_in(period, form_data.get("campaign")).filter(
        attribution__website__isnull=False
    )
    if form_data.get("website") is not None:
        calls = calls.filter(attribution__website=form_data["website"])
    return calls


def _rows(calls: QuerySet[Call], grouping: Grouping) -> tuple[list[dict], dict]:
    """The table's rows (label, figures), most calls first, and its total."""
    groups = selectors.grouped(
        calls,
        label=F(grouping.field),
        kind=F("attribution__kind"),
        first=F("attribution__first_time_caller"),
    )
    tallies = selectors._tally(groups, 3)
    merged: dict[str, dict[str, int]] = {}
    first_time: dict[str, int] = {}
    for (label, kind, first), counts in tallies.items():
        name = label or KIND_LABELS.get(kind, NOT_SET)
        total = merged.setdefault(name, dict.fromkeys(counts, 0))
        for figure, value in counts.items():
            total[figure] += value
        first_time[name] = first_time.get(name, 0) + (counts["call_count"] if first else 0)

    def figures(counts: dict[str, int], first_count: int) -> dict[str, Any]:
        return {**selectors._figures(counts), "first_time_callers": first_count}

    rows = [
        {"label": name, "figures": figures(counts, first_time[name])}
        for name, counts in merged.items()
    ]
    rows.sort(key=lambda row: (-row["figures"]["call_count"], row["label"]))
    total = figures(selectors._add(merged.values()), sum(first_time.values()))
    return rows, total


def _bind(query: QueryDict) -> WebsiteReportForm:
    data = query.copy()
    period = reports.default_period()
    data.setdefault("start", period.start.isoformat())
    data.setdefault("end", period.end.isoformat())
    return WebsiteReportForm(data)


def _csv(grouping: Grouping, rows: list[dict], total: dict, period: Period) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="website-calls-by-{grouping.key}-'
        f'{period.start.isoformat()}-to-{period.end.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow([grouping.header, *(HEADERS[name] for name in FIGURES)])
    for label, figures in [*((row["label"], row["figures"]) for row in rows), ("Total", total)]:
        writer.writerow(
            [reports._safe_text(label), *(reports.machine(name, figures[name]) for name in FIGURES)]
        )
    return response


def _cells(figures: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"name": name, "header": HEADERS[name], "text": reports.human(name, figures[name])}
        for name in FIGURES
    ]


def report_view(request: HttpRequest, *, admin_site) -> HttpResponse:
    """The website report page, or one table as CSV with ?format=csv&table=<key>."""
    if not request.user.has_perm("attribution.view_callattribution"):
        raise PermissionDenied
    form = _bind(request.GET)
    valid = form.is_valid()
    if request.GET.get("format") == "csv":
        grouping = BY_KEY.get(request.GET.get("table", ""))
        if grouping is None:
            return HttpResponseBadRequest("Unknown table.", content_type="text/plain")
        if not valid:
            return HttpResponseBadRequest(
                form.errors.as_text(), content_type="text/plain; charset=utf-8"
            )
        period = Period(form.cleaned_data["start"], form.cleaned_data["end"])
        with selectors.report_queries():
            rows, total = _rows(website_calls(period, form.cleaned_data), grouping)
        return _csv(grouping, rows, total, period)

    context: dict[str, Any] = {
        **admin_site.each_context(request),
        "title": "Website call reports",
        "opts": Website._meta,
        "form": form,
        "headers": [HEADERS[name] for name in FIGURES],
    }
    if valid:
        period = Period(form.cleaned_data["start"], form.cleaned_data["end"])
        filters = QueryDict(mutable=True)
        filters.update({key: value for key, value in form.data.items() if key != "format"})
        tables = []
        with selectors.report_queries():
            calls = website_calls(period, form.cleaned_data)
            for grouping in GROUPINGS:
                rows, total = _rows(calls, grouping)
                link = filters.copy()
                link.update({"format": "csv", "table": grouping.key})
                tables.append(
                    {
                        "grouping": grouping,
                        "rows": [
                            {"label": row["label"], "cells": _cells(row["figures"])} for row in rows
                        ],
                        "total": _cells(total),
                        "csv_url": "?" + link.urlencode(),
                    }
                )
        context.update(period=period, tables=tables, summary=tables[0]["total"])
    return TemplateResponse(request, "admin/attribution/website/reports.html", context)
