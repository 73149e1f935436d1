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
from django.contrib.admin.widgets import AdminTimeWidget
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections, models
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
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from tracking import hours, phones, reports
from tracking.admin_provisioning import NumberProvisioningMixin
from tracking.announcement import REGION_NAMES, CallerPlace
from tracking.models import (
    Call,
    CallLeg,
    Campaign,
    Destination,
    Holiday,
    OpeningHours,
    Recording,
    TrackingNumber,
)
from whisper import twilio_api

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


class CampaignPartInline:
    """A part of a campaign (its destinations, hours, holidays): whoever may edit the campaign
    may edit its parts, so the Marketers group needs no permissions of their own for them."""

    def _campaign_perm(self, request: HttpRequest, action: str) -> bool:
        return request.user.has_perm(f"tracking.{action}_campaign")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._campaign_perm(request, "view") or self._campaign_perm(request, "change")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        action = "add" if obj is None else "change"
        return self._campaign_perm(request, action)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        action = "add" if obj is None else "change"
        return self._campaign_perm(request, action)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return obj is not None and self._campaign_perm(request, "change")


def _typed_tracking_numbers(data) -> set[str]:
    """The tracking numbers typed in the campaign form's own numbers inline, as E.164."""
    typed = set()
    for key, value in data.items():
        match = re.fullmatch(r"numbers-(\d+)-phone_number", key)
        if match and not data.get(f"numbers-{match[1]}-DELETE") and value.strip():
            typed.add(phones.normalize(value))
    return typed


class DestinationForm(forms.ModelForm):
    order = forms.IntegerField(
        min_value=1,
        required=False,
        help_text="1 rings first. Leave empty to ring after the others.",
        widget=forms.NumberInput(attrs={"min": 1, "class": "destination-order"}),
    )

    class Meta:
        model = Destination
        fields = ["label", "phone_number"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault("order", self.instance.position + 1)

    def clean_phone_number(self) -> str:
        return phones.to_e164(self.cleaned_data["phone_number"])


class DestinationFormSet(forms.BaseInlineFormSet):
    """Destinations saved in the order shown by their "Order" column (then by row), numbered
    0, 1, 2… with no gaps; and never a tracking number, which would ring this app again."""

    default_error_messages = {
        "too_few_forms": "Add at least one destination: the phone that rings when a call comes in."
    }

    def __init__(self, *args, tracking_numbers: set[str] = frozenset(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tracking_numbers = set(tracking_numbers)

    def _kept_forms(self) -> list[forms.ModelForm]:
        return [
            form for form in self.forms if form.cleaned_data and not self._should_delete_form(form)
        ]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = self._kept_forms()
        numbers = [form.cleaned_data["phone_number"] for form in kept]
        tracking = self.tracking_numbers | set(
            TrackingNumber.objects.filter(phone_number__in=numbers).values_list(
                "phone_number", flat=True
            )
        )
        seen = set()
        for form, number in zip(kept, numbers, strict=True):
            if number in tracking:
                # Twilio would call the app itself, which would ring the destinations again.
                form.add_error(
                    "phone_number",
                    "This is a tracking number: calls would ring back into this site. Enter "
                    "the phone of a person or a desk.",
                )
            elif number in seen:
                form.add_error("phone_number", "This number is already a destination above.")
            seen.add(number)
        shown = sorted(
            enumerate(kept),
            key=lambda row: (
                row[1].cleaned_data.get("order") is None,
                row[1].cleaned_data.get("order") or 0,
                row[0],
            ),
        )
        for position, (_, form) in enumerate(shown):
            form.instance.position = position

    def save(self, commit: bool = True):
        saved = super().save(commit)
        if commit:
            # Rows left as they were are not saved by the formset, yet may have moved up or down
            # (another row was deleted or reordered). Saved one by one so routes are refreshed.
            for form in self._kept_forms():
                moved = form.initial.get("order") not in (None, form.instance.position + 1)
                if form.instance.pk and not form.has_changed() and moved:
                    form.instance.save(update_fields=["position"])
        return saved


class DestinationInline(CampaignPartInline, admin.TabularInline):
    model = Destination
    form = DestinationForm
    formset = DestinationFormSet
    fields = ["order", "label", "phone_number"]
    min_num = 1
    extra = 0
    verbose_name = "destination"
    verbose_name_plural = "Destinations: the phones that ring"
    # Shown inside the "Ringing" section of the form rather than after all the fields.
    placed_after = "Ringing"

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        # The admin passes min_num on but not validate_min: without it, deleting every row
        # (or posting none) would pass.
        return super().get_formset(request, obj, validate_min=True, **kwargs)


class OpeningHoursInline(CampaignPartInline, admin.TabularInline):
    model = OpeningHours
    fields = ["weekday", "opens", "closes"]
    extra = 0
    # 09:00, not 09:00:00: business hours are whole minutes.
    formfield_overrides = {models.TimeField: {"widget": AdminTimeWidget(format="%H:%M")}}
    verbose_name_plural = (
        "Opening hours (none at all: always open; a day with none: closed all day)"
    )
    placed_after = "Business hours"


class HolidayInline(CampaignPartInline, admin.TabularInline):
    model = Holiday
    fields = ["date", "name"]
    extra = 0
    verbose_name_plural = "Holidays (closed all day)"
    placed_after = "Business hours"


class CampaignForm(forms.ModelForm):
    time_zone = forms.TypedChoiceField(
        choices=hours.time_zone_choices,
        initial="America/Chicago",
        help_text=Campaign._meta.get_field("time_zone").help_text,
        error_messages={
            "invalid_choice": "“%(value)s” is not a time zone. Choose one from the list, "
            "e.g. America/Chicago."
        },
    )

    class Meta:
        model = Campaign
        # The admin adds the fields of its fieldsets.
        fields = ["time_zone"]


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
    form = CampaignForm
    change_form_template = "admin/tracking/campaign/change_form.html"
    list_display = [
        "name",
        "numbers",
        "calls",
        "accepted",
        "acceptance_rate",
        "rings",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["name", "numbers__phone_number", "numbers__label"]
    search_help_text = "Campaign name, or one of its tracking numbers or labels."
    inlines = [DestinationInline, OpeningHoursInline, HolidayInline, TrackingNumberInline]
    # The list's figures are aggregated over the whole call table; count the page once, not twice.
    show_full_result_count = False
    readonly_fields = ["whisper_preview", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "is_active"]}),
        (
            "Ringing",
            {
                "description": (
                    "Who rings when a call comes in. A tracking number with its own “forward "
                    "calls to” rings that phone only."
                ),
                "fields": ["ring_strategy", "ring_timeout"],
            },
        ),
        (
            "Whisper",
            {
                "description": (
                    "Before a caller is put through, the person answering hears a short "
                    "sentence saying which campaign the call comes from, then presses the "
                    "accept key to take it. Any other key, or none, declines the call: the "
                    "next destination rings, or the caller goes to voicemail."
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
            "When nobody answers",
            {
                "description": (
                    "When every destination declined, stayed silent or did not answer, the "
                    "caller leaves a message (voicemail on) or hears the missed-call message."
                ),
                "fields": [
                    "voicemail_enabled",
                    "voicemail_greeting",
                    "voicemail_audio_url",
                    "voicemail_max_seconds",
                    "voicemail_transcribe",
                    "missed_message",
                ],
            },
        ),
        (
            "Business hours",
            {
                "description": (
                    "Calls ring the destinations during the opening hours below, read on the "
                    "campaign's clock. With no opening hours at all the campaign is always open."
                ),
                "fields": ["time_zone", "after_hours_action", "after_hours_number"],
            },
        ),
        (
            "Recording",
            {"fields": ["record_calls", "recording_notice"]},
        ),
        (
            "Notifications",
            {
                "description": "E-mails sent when a caller leaves a message or a call is missed.",
                "fields": ["notify_emails"],
            },
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

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "voicemail_audio_url":
            # An address typed without a scheme is fetched by Twilio: https, not http.
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_formset_kwargs(self, request: HttpRequest, obj, inline, prefix: str) -> dict:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, DestinationInline) and request.method == "POST":
            # The numbers being added in the same form are not in the database yet.
            kwargs["tracking_numbers"] = _typed_tracking_numbers(request.POST)
        return kwargs

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return (
            super()
            .get_queryset(request)
            .annotate(numbers_count=_numbers_per_campaign(), **_calls_per_campaign())
            .prefetch_related("destinations")
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

    @admin.display(description="Rings")
    def rings(self, campaign: Campaign) -> str:
        labels = [destination.label for destination in campaign.destinations.all()]
        joiner = " + " if campaign.ring_strategy == Campaign.RingStrategy.SIMULTANEOUS else " → "
        return joiner.join(labels) or DASH

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
            .prefetch_related("campaign__destinations")
        )

    @admin.display(description="Number", ordering="phone_number")
    def number(self, number: TrackingNumber) -> str:
        return phones.national(number.phone_number)

    @admin.display(description="E.164", ordering="phone_number")
    def e164(self, number: TrackingNumber) -> str:
        return number.phone_number

    @admin.display(description="Calls go to")
    def destination_number(self, number: TrackingNumber) -> str:
        if number.forward_to:
            return phones.national(number.forward_to)
        destinations = number.campaign.destinations.all()
        return ", ".join(phones.national(d.phone_number) for d in destinations) or DASH

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


class ReadOnlyCallPartInline(admin.TabularInline):
    """A part of a call's log (its legs, its recordings): shown to whoever may view calls,
    written by Twilio's webhooks only."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("tracking.view_call")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class CallLegInline(ReadOnlyCallPartInline):
    model = CallLeg
    verbose_name = "destination rung"
    verbose_name_plural = "Destinations rung"
    fields = ["order", "label", "phone", "result_label", "whispered_at", "decided_at"]
    readonly_fields = fields

    @admin.display(description="Order")
    def order(self, leg: CallLeg) -> int:
        return leg.position + 1

    @admin.display(description="Phone")
    def phone(self, leg: CallLeg) -> str:
        return phones.national(leg.phone_number)

    @admin.display(description="Result")
    def result_label(self, leg: CallLeg) -> str:
        return format_html(
            '<span class="leg-result leg-result-{}">{}</span>', leg.result, leg.get_result_display()
        )


class RecordingInline(ReadOnlyCallPartInline):
    model = Recording
    fields = ["kind", "player", "length", "transcript", "created_at"]
    readonly_fields = fields

    @admin.display(description="Listen")
    def player(self, recording: Recording) -> str:
        if recording.status in ("absent", "failed"):
            return "No audio (Twilio reported the recording " + recording.status + ")."
        url = reverse("admin:tracking_call_recording_audio", args=[recording.pk])
        # preload="none": opening a call's page must not download every recording from Twilio.
        return format_html(
            '<audio class="recording-player" controls preload="none" src="{}"></audio>'
            ' <a class="recording-download" href="{}">Download</a>',
            url,
            url,
        )

    @admin.display(description="Length")
    def length(self, recording: Recording) -> str:
        return minutes_seconds(recording.duration_seconds)

    @admin.display(description="Transcription")
    def transcript(self, recording: Recording) -> str:
        if recording.transcription:
            return recording.transcription
        if recording.transcription_status in ("", "completed"):
            return DASH
        return f"Transcription {recording.transcription_status}."


@admin.register(Call)
class CallAdmin(PhoneSearchMixin, admin.ModelAdmin):
    list_display = [
        "started_at",
        "outcome_label",
        "campaign",
        "tracking_number",
        "caller",
        "caller_location",
        "answered_by",
        "talk_time",
    ]
    list_filter = ["campaign", "outcome", "after_hours", CallerCountryFilter, CallerStateFilter]
    list_select_related = ["campaign", "tracking_number"]
    date_hierarchy = "started_at"

    # Exact and prefix lookups only, so both can use an index on a table of millions of rows.
    search_fields = ["call_sid__exact", "caller_number__startswith"]
    search_help_text = "Caller number (any format) or Call SID."
    ordering = ["-started_at"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    inlines = [CallLegInline, RecordingInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "call_sid",
                    "started_at",
                    "outcome",
                    "answered_by",
                    "after_hours",
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
                    "voicemail_at",
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
                    "notified_at",
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
            path(
                "recordings/<int:recording_id>/audio/",
                self.admin_site.admin_view(self.recording_audio_view),
                name="tracking_call_recording_audio",
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

    def recording_audio_view(self, request: HttpRequest, recording_id: int) -> HttpResponse:
        """A recording's audio, streamed from Twilio: the browser cannot fetch it itself, as
        Twilio asks for the account's credentials.

        1. Only for people who may view calls.
        2. Ask Twilio for the audio by the recording's SID (passing on a player's byte range).
        3. Stream it back as it comes; a Twilio that has no such recording gives a 404 page,
           any other failure a 502 page, with what to do about it.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        recording = Recording.objects.filter(pk=recording_id).select_related("call").first()
        if recording is None:
            return self._recording_unavailable(
                request, None, "There is no such recording in the call log.", status=404
            )
        try:
            media = twilio_api.recording_media(
                sid=recording.recording_sid, byte_range=request.headers.get("Range", "")
            )
        except twilio_api.TwilioError as error:
            status = 404 if error.not_found else 502
            return self._recording_unavailable(request, recording, error.message, status=status)
        response = StreamingHttpResponse(
            media, status=media.status, content_type=media.content_type
        )
        for name, value in media.headers.items():
            response[name] = value
        response["Content-Disposition"] = f'inline; filename="{recording.recording_sid}.mp3"'
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def _recording_unavailable(
        self, request: HttpRequest, recording: Recording | None, message: str, *, status: int
    ) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/tracking/call/recording_unavailable.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": "Recording unavailable",
                "recording": recording,
                "message": message,
            },
            status=status,
        )


def _without_page(request: HttpRequest) -> HttpRequest:
    # The export covers every page of the list, and a page number past the end is an error.
    request.GET = request.GET.copy()
    request.GET.pop("p", None)
    return request
