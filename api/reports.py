"""The report figures the reports page shows, for a period and optionally one campaign."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tracking import selectors
from tracking.models import Call
from tracking.reports import ReportForm, default_period
from tracking.selectors import Period, Report


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: _plain(value) for name, value in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


class ReportView(APIView):
    """Call and acceptance figures by campaign, number, day, hour, destination and place.

    Rates are fractions (0.5 is 50 %); a rate or an average over nothing is null. Days are in
    the site's time zone, both ends included, at most 366 of them.
    """

    permission_model = Call

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="First day (default: 29 days ago)."
            ),
            OpenApiParameter(
                "end", OpenApiTypes.DATE, description="Last day, included (default: today)."
            ),
            OpenApiParameter(
                "campaign", OpenApiTypes.INT, description="Only this campaign's calls."
            ),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        data = request.query_params.copy()
        period = default_period()
        data.setdefault("start", period.start.isoformat())
        data.setdefault("end", period.end.isoformat())
        form = ReportForm(data)
        if not form.is_valid():
            raise exceptions.ValidationError(
                {
                    ("non_field_errors" if name == "__all__" else name): list(messages)
                    for name, messages in form.errors.items()
                }
            )
        period = Period(form.cleaned_data["start"], form.cleaned_data["end"])
        campaign = form.cleaned_data["campaign"]
        report = Report(period, campaign)
        with selectors.report_queries():
            body = {
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "campaign": campaign.pk if campaign else None,
                "totals": report.totals,
                "by_campaign": _rows(report.by_campaign()),
                "by_number": _rows(report.by_number()),
                "by_day": _rows(report.by_day()),
                "by_hour": _rows(report.by_hour()),
                "by_destination": _rows(report.by_destination()),
                "destination_total": report.destination_total,
                "by_place": _rows(report.by_place()),
            }
        return Response(body)
