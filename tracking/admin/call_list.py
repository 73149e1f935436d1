"""What keeps the call list fast on millions of calls: a capped count, fixed filters, and
a date hierarchy read from the first and last call."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, QuerySet
from django.utils import timezone
from django.utils.functional import cached_property

from tracking.announcement import REGION_NAMES
from tracking.models import Call


class CappedCountPaginator(Paginator):
    """Counts at most `cap` rows, so a page of a huge call table never runs a full COUNT(*).

    Past the cap the list shows "more than …" (and, on PostgreSQL for the whole table, the
    planner's estimate); filters and the date hierarchy narrow it down to an exact figure.
    """

    cap = 10_000

    @cached_property
    def counted(self) -> int:
        # COUNT(*) over a subquery with LIMIT: it stops reading after cap + 1 rows.
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @property
    def capped(self) -> bool:
        return self.counted > self.cap

    @cached_property
    def estimate(self) -> int | None:
        """PostgreSQL's own row estimate for the unfiltered table, when the count is capped."""
        queryset = self.object_list
        connection = connections[queryset.db]
        if not self.capped or queryset.query.where or connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        # -1 until the table is first analysed.
        return row[0] if row and row[0] > self.cap else None


class CallerCountryFilter(admin.SimpleListFilter):
    # Fixed choices instead of the field's distinct values: a SELECT DISTINCT over millions of
    # calls on every page view is what this list must avoid.
    title = "caller country"
    parameter_name = "country"
    NAMES = {"US": "United States", "CA": "Canada"}

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [*self.NAMES.items(), ("other", "Other"), ("unknown", "Unknown")]

    def queryset(self, request, queryset: QuerySet[Call]) -> QuerySet[Call]:
        value = self.value()
        if value in self.NAMES:
            return queryset.filter(caller_country=value)
        if value == "other":
            return queryset.exclude(caller_country__in=[*self.NAMES, ""])
        if value == "unknown":
            return queryset.filter(caller_country="")
        return queryset


class CallerStateFilter(admin.SimpleListFilter):
    # The states of the chosen country (the default region's otherwise), for the same reason.
    title = "caller state"
    parameter_name = "state"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        country = request.GET.get(CallerCountryFilter.parameter_name, "")
        regions = REGION_NAMES.get(country) or REGION_NAMES.get(settings.PHONE_DEFAULT_REGION, {})
        return sorted(regions.items(), key=lambda item: item[1])

    def queryset(self, request, queryset: QuerySet[Call]) -> QuerySet[Call]:
        value = self.value()
        return queryset.filter(caller_state=value) if value else queryset


class PeriodsBetweenBounds(QuerySet):
    """Calls whose date hierarchy lists every period between the first and the last call.

    Django lists only the periods that have calls, with SELECT DISTINCT over every call of the
    range: a scan of the whole table at a million calls. The first and last call are two index
    lookups; a period without any call in between shows, and opens an empty list.
    """

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        bounds = self.order_by().aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        zone = tzinfo or timezone.get_current_timezone()
        first, last = (timezone.localtime(bounds[end], zone).replace(tzinfo=None) for end in bounds)
        period = {
            "year": datetime(first.year, 1, 1),
            "month": datetime(first.year, first.month, 1),
            "day": datetime(first.year, first.month, first.day),
        }[kind]
        periods = []
        while period <= last:
            periods.append(timezone.make_aware(period, zone))
            period = _next_period(period, kind)
        return periods if order == "ASC" else periods[::-1]


def _next_period(period: datetime, kind: str) -> datetime:
    if kind == "day":
        return period + timedelta(days=1)
    if kind == "month":
        return datetime(period.year + period.month // 12, period.month % 12 + 1, 1)
    return datetime(period.year + 1, 1, 1)
