"""The dashboard's top sources: website calls of the last 30 days by source, from the website
report's grouped scan (one query)."""

from __future__ import annotations

from django.urls import reverse

from attribution import reports
from tracking import dashboard
from tracking import reports as call_reports
from tracking.selectors import Period

TOP_SOURCES = 5


def top_sources(period: Period) -> dict:
    rows, _total = reports._rows(reports.website_calls(period, {}), reports.BY_KEY["source"])
    for row in rows:
        figures = row["figures"]
        row["acceptance_text"] = call_reports.human("acceptance_rate", figures["acceptance_rate"])
        row["small_sample"] = figures["screened"] < dashboard.SMALL_SAMPLE
    report_url = reverse("admin:attribution_website_reports")
    return {
        "rows": rows[:TOP_SOURCES],
        "report_url": f"{report_url}?start={period.start.isoformat()}&end={period.end.isoformat()}",
    }


PANEL = dashboard.Panel(
    template="admin/attribution/dashboard_sources.html",
    permission="attribution.view_callattribution",
    rows=top_sources,
)
