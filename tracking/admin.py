"""The marketers' admin: campaigns and their numbers, the read-only call log, export and reports."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import (
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast, NullIf
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from tracking import phones, reports
from tracking.admin_provisioning import NumberProvisioningMixin
from tracking.announcement import REGION_NAMES, CallerPlace
from tracking.models import Call, Campaign, TrackingNumber

admin.site.site_header = "Call Tracking"
admin.site.site_title = "Call Tracking"
admin.site.index_title = "Campaigns, numbers and calls"

DASH = "—"
PREVIEW_PLACE = CallerPlace("Austin", "TX", "US")
# Digits, spaces and the punctuation people type in phone numbers, and nothing else.
PHONE_LIKE = re.compile(r"\+?[\d\s().\-]{7,}")


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else DASH


def minutes_seconds(seconds: int | None) -> str:
    if seconds is None:
        return DASH
    return f"{seconds // 60}:{seconds % 60:02d}"


class PhoneSearchMixin:
    """Searches a whole phone number typed any way ("(512) 555-0100") as its stored E.164.

    Without this the admin splits the term on spaces and looks for each piece separately,
    so a number copied from a business card would never match.
    """

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if PHONE_LIKE.fullmatch(term):
            search_term = phones.normalize(term)
        return super().get_search_results(request, queryset, search_term)


class TrackingNumberForm(forms.ModelForm):
    class Meta:
        model = TrackingNumber
        fields = ["phone_number", "campaign", "label", "forward_to", "is_active"]
        error_messages = {
            "phone_number": {
                "unique": "This number is already a tracking number. A number can belong to "
                "one campaign only: edit that number to move it.",
            }
        }

    def clean(self) -> dict:
        data = super().clean()
        number, forward_to = data.get("phone_number"), data.get("forward_to")
        if number and forward_to and phones.normalize(number) == phones.normalize(forward_to):
            # Twilio would dial the tracking number itself, over and over.
            self.add_error("forward_to", "Calls cannot be forwarded to the tracking number itself.")
        return data


class TrackingNumberInline(admin.TabularInline):
    model = TrackingNumber
    form = TrackingNumberForm
    fields = ["phone_number", "label", "forward_to", "is_active"]
    show_change_link = True

    def get_extra(self, request, obj=None, **kwargs) -> int:
        # A new campaign needs its first number; an existing one keeps the form short.
        return 1 if obj is None else 0


def _calls_per_campaign() -> dict:
    """Annotations counting each campaign's calls over a single join of the call table."""
    screened = Count("calls", filter=Q(calls__whispered_at__isnull=False))
    accepted = Count("calls", filter=Q(calls__outcome=Call.Outcome.ACCEPTED))
    return {
        "calls_count": Count("calls"),
        "screened_count": screened,
        "accepted_count": accepted,
        # NULL when nothing was screened: sorts last and reads as a dash, never a division by 0.
        "acceptance": Cast(accepted, FloatField()) / NullIf(Cast(screened, FloatField()), 0.0),
    }


def _numbers_per_campaign() -> Subquery:
    """Each campaign's number count, as a subquery rather than a second join.

    Joining numbers and calls together would multiply every call by the campaign's number
    count. COUNT without GROUP BY gives 0, not NULL, for a campaign without numbers, and a bare
    Subquery (no Coalesce around it) is grouped by the campaign's id, so PostgreSQL runs it once
    per campaign instead of once per joined call.
    """
    numbers = (
        TrackingNumber.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .annotate(n=Func("pk", function="COUNT"))
        .values("n")
    )
    return Subquery(numbers, output_field=IntegerField())


@admin.register(Campaign)
class CampaignAdmin(PhoneSearchMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "numbers",
        "calls",
        "accepted",
        "acceptance_rate",
        "forwards_to",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "numbers__phone_number", "numbers__label"]
    search_help_text = "Campaign name, or one of its tracking numbers or labels."
    inlines = [TrackingNumberInline]
    # The list's figures are aggregated over the whole call table; count the page once, not twice.
    show_full_result_count = False
    readonly_fields = ["whisper_preview", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "forward_to", "is_active"]}),
        (
            "Whisper",
            {
                "description": (
                    "Before a caller is put through, the person answering hears a short "
                    "sentence saying which campaign the call comes from, then presses the "
                    "accept key to take it. Any other key, or none, declines the call and the "
                    "caller hears the missed-call message."
                ),
                "fields": [
                    "whisper_template",
                    "announce_location",
                    "accept_digit",
                    "whisper_preview",
                    "whisper_voice",
                    "whisper_language",
                ],
            },
        ),
        (
            "When nobody takes the call",
            {"fields": ["ring_timeout", "missed_message"]},
        ),
        (
            "Caller name",
            {"fields": ["caller_name_lookup"], "classes": ["collapse"]},
        ),
        (
            "History",
            {"fields": ["created_at", "updated_at"], "classes": ["collapse"]},
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return (
            super()
            .get_queryset(request)
            .annotate(numbers_count=_numbers_per_campaign(), **_calls_per_campaign())
        )

    @admin.display(description="Tracking numbers", ordering="numbers_count")
    def numbers(self, campaign: Campaign) -> int:
        return campaign.numbers_count

    @admin.display(description="Calls", ordering="calls_count")
    def calls(self, campaign: Campaign) -> int:
        return campaign.calls_count

    @admin.display(description="Accepted", ordering="accepted_count")
    def accepted(self, campaign: Campaign) -> int:
        return campaign.accepted_count

    @admin.display(description="Acceptance rate", ordering=F("acceptance").desc(nulls_last=True))
    def acceptance_rate(self, campaign: Campaign) -> str:
        return percent(campaign.accepted_count, campaign.screened_count)

    @admin.display(description="Forward calls to", ordering="forward_to")
    def forwards_to(self, campaign: Campaign) -> str:
        return phones.national(campaign.forward_to)

    @admin.display(description="Preview")
    def whisper_preview(self, campaign: Campaign | None) -> str:
        if campaign is None or campaign.pk is None:
            return "Save the campaign to hear a preview here."
        examples = [
            (f"A caller from {PREVIEW_PLACE.spoken}", campaign.whisper_for(PREVIEW_PLACE)),
            ("A caller whose location is unknown", campaign.whisper_for(CallerPlace())),
        ]
        return format_html(
            '<dl class="whisper-preview">{}</dl>',
            format_html_join(
                "", '<dt>{}</dt><dd><q class="whisper-sentence">{}</q></dd>', examples
            ),
        )


@admin.register(TrackingNumber)
class TrackingNumberAdmin(NumberProvisioningMixin, PhoneSearchMixin, admin.ModelAdmin):
    form = TrackingNumberForm
    list_display = [
        "number",
        "e164",
        "label",
        "campaign",
        "destination_number",
        "calls",
        "last_call",
        "is_active",
    ]
    list_display_links = ["number", "e164"]
    list_filter = ["is_active", "campaign"]
    list_select_related = ["campaign"]
    show_full_result_count = False
    search_fields = ["phone_number", "label", "campaign__name"]
    search_help_text = "Number (any format), label or campaign."
    readonly_fields = ["twilio_sid", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["phone_number", "campaign", "label", "forward_to", "is_active"]}),
        ("Twilio", {"fields": ["twilio_sid", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrackingNumber]:
        # Subqueries, not a join and GROUP BY over the call table: the count reads only the
        # tracking_number_id index, the last call walks the started_at index from the newest,
        # and the page's row count needs neither.
        calls = Call.objects.filter(tracking_number=OuterRef("pk")).order_by()
        return (
            super()
            .get_queryset(request)
            .annotate(
                calls_count=Subquery(
                    calls.annotate(n=Func("tracking_number", function="COUNT")).values("n"),
                    output_field=IntegerField(),
                ),
                last_call_at=Subquery(calls.order_by("-started_at").values("started_at")[:1]),
            )
        )

    @admin.display(description="Number", ordering="phone_number")
    def number(self, number: TrackingNumber) -> str:
        return phones.national(number.phone_number)

    @admin.display(description="E.164", ordering="phone_number")
    def e164(self, number: TrackingNumber) -> str:
        return number.phone_number

    @admin.display(description="Calls go to")
    def destination_number(self, number: TrackingNumber) -> str:
        return phones.national(number.destination)

    @admin.display(description="Calls", ordering="calls_count")
    def calls(self, number: TrackingNumber) -> int:
        return number.calls_count

    @admin.display(description="Last call", ordering=F("last_call_at").desc(nulls_last=True))
    def last_call(self, number: TrackingNumber):
        return number.last_call_at or DASH


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


CSV_COLUMNS = [
    ("Started at", "started_at"),
    ("Call SID", "call_sid"),
    ("Campaign", "campaign__name"),
    ("Tracking number", "tracking_number__phone_number"),
    ("Called number", "called_number"),
    ("Caller number", "caller_number"),
    ("Caller name", "caller_name"),
    ("City", "caller_city"),
    ("State", "caller_state"),
    ("ZIP", "caller_zip"),
    ("Country", "caller_country"),
    ("Forwarded to", "forwarded_to"),
    ("Outcome", "outcome"),
    ("Decision", "decision"),
    ("Dial status", "dial_status"),
    ("Whispered at", "whispered_at"),
    ("Decided at", "decided_at"),
    ("Ended at", "ended_at"),
    ("Talk seconds", "talk_seconds"),
    ("Duration seconds", "duration_seconds"),
]
_PLAIN_NUMBER = re.compile(r"[+-]?\d+")


def csv_value(value: object) -> object:
    """A cell as people read it: local times, and caller-supplied text (a CNAM name, a junk
    "From") that a spreadsheet will not run as a formula; +15125550100 stays as it is."""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        if not _PLAIN_NUMBER.fullmatch(value):
            return "'" + value
    return value


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[tuple]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in CSV_COLUMNS])
    for row in rows:
        yield writer.writerow([csv_value(value) for value in row])


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


@admin.register(Call)
class CallAdmin(PhoneSearchMixin, admin.ModelAdmin):
    list_display = [
        "started_at",
        "outcome_label",
        "campaign",
        "tracking_number",
        "caller",
        "caller_location",
        "talk_time",
    ]
    list_filter = ["campaign", "outcome", CallerCountryFilter, CallerStateFilter]
    list_select_related = ["campaign", "tracking_number"]
    date_hierarchy = "started_at"

    # Exact and prefix lookups only, so both can use an index on a table of millions of rows.
    search_fields = ["call_sid__exact", "caller_number__startswith"]
    search_help_text = "Caller number (any format) or Call SID."
    ordering = ["-started_at"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "call_sid",
                    "started_at",
                    "outcome",
                    "campaign",
                    "tracking_number",
                    "called_number",
                    "forwarded_to",
                ]
            },
        ),
        (
            "Caller",
            {
                "fields": [
                    "caller_number",
                    "caller_name",
                    "caller_city",
                    "caller_state",
                    "caller_zip",
                    "caller_country",
                ]
            },
        ),
        (
            "Whisper and answer",
            {
                "fields": [
                    "whispered_at",
                    "decision",
                    "decided_at",
                    "dial_status",
                    "dial_bridged",
                    "dial_call_sid",
                ]
            },
        ),
        (
            "End",
            {
                "fields": [
                    "call_status",
                    "ended_at",
                    "talk_seconds",
                    "duration_seconds",
                    "updated_at",
                ]
            },
        ),
    ]

    # Calls are written by Twilio's webhooks only; an edited log would make reports lie.

    def get_queryset(self, request: HttpRequest) -> QuerySet[Call]:
        calls = super().get_queryset(request)
        return PeriodsBetweenBounds(model=calls.model, query=calls.query, using=calls.db)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Call | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Call | None = None) -> bool:
        # Kept for superusers only, to honour a caller's request to erase their data.
        return request.user.is_superuser

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_label(self, call: Call) -> str:
        return format_html(
            '<span class="call-outcome call-outcome-{}">{}</span>',
            call.outcome,
            call.get_outcome_display(),
        )

    @admin.display(description="Caller", ordering="caller_number")
    def caller(self, call: Call) -> str:
        number = phones.national(call.caller_number) if call.caller_number else "Unknown"
        return f"{number} · {call.caller_name}" if call.caller_name else number

    @admin.display(description="Caller location")
    def caller_location(self, call: Call) -> str:
        city = call.caller_city.title() if call.caller_city.isupper() else call.caller_city
        parts = [city, call.caller_state, call.caller_country]
        return ", ".join(part for part in parts if part) or DASH

    @admin.display(description="Talk time", ordering="talk_seconds")
    def talk_time(self, call: Call) -> str:
        return minutes_seconds(call.talk_seconds)

    def get_urls(self):
        extra = [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="tracking_call_export",
            ),
            path(
                "reports/",
                self.admin_site.admin_view(self.reports_view),
                name="tracking_reports",
            ),
        ]
        # Before the model's own URLs, whose "<object_id>/" would swallow these paths.
        return extra + super().get_urls()

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The calls the change list shows with the same filters and search, as streamed CSV."""
        if not request.user.has_perm("tracking.view_call"):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(_without_page(request))
        except IncorrectLookupParameters:
            return HttpResponseRedirect(reverse("admin:tracking_call_changelist") + "?e=1")
        rows = changelist.queryset.values_list(*(field for _, field in CSV_COLUMNS))
        filename = timezone.localtime().strftime("calls-%Y%m%d-%H%M.csv")
        return StreamingHttpResponse(
            csv_lines(rows.iterator(chunk_size=2000)),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def reports_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("tracking.view_call"):
            raise PermissionDenied
        return reports.report_view(request, admin_site=self.admin_site)


def _without_page(request: HttpRequest) -> HttpRequest:
    # The export covers every page of the list, and a page number past the end is an error.
    request.GET = request.GET.copy()
    request.GET.pop("p", None)
    return request
