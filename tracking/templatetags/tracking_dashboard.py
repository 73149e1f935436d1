"""The dashboard on the admin index, as a tag: the index stays Django's own view and
`admin.site` stays the standard site, which other apps register their admins on."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse

from tracking import charts, dashboard, phones, reports
from tracking.models import TrackingNumber

register = template.Library()


@register.inclusion_tag("admin/tracking/dashboard.html", takes_context=True)
def call_dashboard(context: template.Context) -> dict:
    request = context["request"]
    if not request.user.has_perm("tracking.view_call"):
        return {"shown": False}
    board = dashboard.dashboard(allowed=request.user.has_perm)
    thirty = board.windows[-1]
    chart = charts.calls_chart(
        chart_id="chart-dashboard-days",
        title=f"Calls and accepted calls per day, {thirty.current.start:%b %-d} to "
        f"{thirty.current.end:%b %-d}",
        description="Bars: calls per day, the accepted part darker. Line: acceptance rate.",
        slots=[
            charts.Slot(
                label=f"{day:%b %-d}",
                description=f"{day:%a %b %-d}",
                calls=row["call_count"],
                accepted=row["accepted"],
                rate=row["acceptance_rate"],
                screened=row["screened"],
            )
            for day, row in board.days
        ],
    )
    report_url = reverse("admin:tracking_reports")
    calls_url = reverse("admin:tracking_call_changelist")
    for row in board.top_campaigns:
        start, end = thirty.current.start.isoformat(), thirty.current.end.isoformat()
        row["report_url"] = f"{report_url}?campaign={row['id']}&start={start}&end={end}"
        row["calls_url"] = f"{calls_url}?campaign__id__exact={row['id']}"
        row["acceptance_text"] = reports.human("acceptance_rate", row["acceptance_rate"])
        row["connect_text"] = reports.human("connect_rate", row["connect_rate"])
        row["small_sample"] = row["screened"] < dashboard.SMALL_SAMPLE
    for call in board.callbacks:
        call.when = dashboard.local_label(call.started_at)
    return {
        "shown": True,
        "board": board,
        "chart": chart,
        "report_url": report_url,
        "calls_url": calls_url,
        "example_number": TrackingNumber.objects.filter(is_active=True)
        .values_list("phone_number", flat=True)
        .first(),
        "can_mark": request.user.has_perm("tracking.view_call"),
        "csrf_token": context.get("csrf_token"),
        "small_sample": dashboard.SMALL_SAMPLE,
        "time_zone": settings.TIME_ZONE,
    }


@register.filter
def national(number: str) -> str:
    """+15125550123 as people write it in its own country: (512) 555-0123."""
    return phones.national(number) if number else ""
