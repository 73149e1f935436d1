"""Campaigns: where calls ring, what the person answering hears, hours and voicemail."""

from __future__ import annotations

import re
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import AdminTimeWidget
from django.db import models
from django.db.models import (
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Cast, NullIf
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from tracking import hours, phones
from tracking.admin.display import DASH, ActiveFilter, PhoneSearchMixin, percent
from tracking.admin.numbers import TrackingNumberForm
from tracking.announcement import CallerPlace, drops_words, placeholder_values
from tracking.models import Call, Campaign, Destination, Holiday, OpeningHours, TrackingNumber
from tracking.selectors import Period

PREVIEW_PLACE = CallerPlace("Austin", "TX", "US")
STATE_ONLY_PLACE = CallerPlace("", "TX", "US")


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
    verbose_name = "day's hours"
    verbose_name_plural = (
        "Opening hours (none at all: always open; a day with none: closed all day)"
    )
    placed_after = "Business hours"


class HolidayInline(CampaignPartInline, admin.TabularInline):
    model = Holiday
    fields = ["date", "name"]
    extra = 0
    verbose_name = "holiday"
    verbose_name_plural = "Holidays (closed all day)"
    placed_after = "Business hours"


class SearchableChoiceInput(forms.TextInput):
    """A text box that suggests its field's choices as one types (an HTML datalist): a list
    of 600 time zones is easier to search than to scroll."""

    def __init__(self, choices, attrs=None) -> None:
        super().__init__(attrs)
        self.suggestions = choices

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{name}-choices"
        box = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join("", '<option value="{}">', ((c,) for c, _ in self.suggestions()))
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


def _seconds_field(model_field: str, low: int, high: int) -> forms.IntegerField:
    # One message for every value out of range, the one the help text gives, whether the
    # value is negative, zero or too large.
    message = f"Enter a number of seconds from {low} to {high}."
    field = Campaign._meta.get_field(model_field)
    return forms.IntegerField(
        label=field.verbose_name.capitalize(),
        min_value=low,
        max_value=high,
        initial=field.default,
        help_text=field.help_text,
        error_messages={"min_value": message, "max_value": message, "invalid": message},
    )


MESSAGE_FIELDS = ("whisper_template", "missed_message", "voicemail_greeting", "recording_notice")


class CampaignForm(forms.ModelForm):
    time_zone = forms.TypedChoiceField(
        choices=hours.time_zone_choices,
        initial="America/Chicago",
        help_text=Campaign._meta.get_field("time_zone").help_text
        + " Type to search, e.g. Chicago.",
        widget=SearchableChoiceInput(hours.time_zone_choices, attrs={"size": 30}),
        error_messages={
            "invalid_choice": "“%(value)s” is not a time zone. Choose one from the list, "
            "e.g. America/Chicago."
        },
    )
    ring_timeout = _seconds_field("ring_timeout", 5, 600)
    voicemail_max_seconds = _seconds_field("voicemail_max_seconds", 10, 3600)

    class Meta:
        model = Campaign
        # The admin adds the fields of its fieldsets.
        fields = ["time_zone"]
        widgets = {
            name: forms.Textarea(attrs={"rows": 2, "cols": 60, "class": "message-field"})
            for name in MESSAGE_FIELDS
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "name" in self.fields:
            # The browser would cut a pasted name at the limit without a word; the form says so.
            self.fields["name"].widget.attrs.pop("maxlength", None)


LIST_DAYS = 30


def list_period():
    """The campaign list's figures cover the last LIST_DAYS days, today included."""
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    return Period(today - timedelta(days=LIST_DAYS - 1), today)


def _calls_per_campaign(period) -> dict:
    """Annotations counting each campaign's calls of `period` over a single join."""
    since, until = period.bounds()
    recent = Q(calls__started_at__gte=since, calls__started_at__lt=until)
    screened = Count("calls", filter=recent & Q(calls__whispered_at__isnull=False))
    accepted = Count("calls", filter=recent & Q(calls__outcome=Call.Outcome.ACCEPTED))
    return {
        "calls_count": Count("calls", filter=recent),
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


def _calls_url(campaign_id: int) -> str:
    return reverse("admin:tracking_call_changelist") + f"?campaign__id__exact={campaign_id}"


def _report_url(campaign_id: int | None, period) -> str:
    query = f"?start={period.start.isoformat()}&end={period.end.isoformat()}"
    if campaign_id is not None:
        query += f"&campaign={campaign_id}"
    return reverse("admin:tracking_reports") + query


@admin.register(Campaign)
class CampaignAdmin(PhoneSearchMixin, admin.ModelAdmin):
    form = CampaignForm
    change_form_template = "admin/tracking/campaign/change_form.html"
    # Seven columns that fit beside the filters at 1440 px; the set-up in one of them.
    list_display = ["name", "calls", "screened", "acceptance_rate", "connect_rate", "setup"]
    list_filter = [ActiveFilter]
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
            .annotate(numbers_count=_numbers_per_campaign(), **_calls_per_campaign(list_period()))
            .prefetch_related("destinations")
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        period = list_period()
        context = {
            "title": "Campaigns",
            "list_period": period,
            "time_zone": settings.TIME_ZONE,
            "report_url": _report_url(None, period),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        if object_id and str(object_id).isdigit():
            context["calls_url"] = _calls_url(int(object_id))
            context["report_url"] = _report_url(int(object_id), list_period())
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description="Tracking numbers", ordering="numbers_count")
    def numbers(self, campaign: Campaign) -> int:
        return campaign.numbers_count

    @admin.display(description=f"Calls, last {LIST_DAYS} days", ordering="calls_count")
    def calls(self, campaign: Campaign) -> str:
        return format_html(
            '<a href="{}" title="Open this campaign\'s calls">{}</a>',
            _calls_url(campaign.pk),
            f"{campaign.calls_count:,}",
        )

    @admin.display(description="Screened", ordering="screened_count")
    def screened(self, campaign: Campaign) -> str:
        return f"{campaign.screened_count:,}"

    @admin.display(description="Acceptance rate", ordering=F("acceptance").desc(nulls_last=True))
    def acceptance_rate(self, campaign: Campaign) -> str:
        rate = percent(campaign.accepted_count, campaign.screened_count)
        return format_html(
            '<a href="{}" title="Accepted ÷ screened; open the report">{}</a>'
            ' <small class="cell-note">{} of {} screened</small>',
            _report_url(campaign.pk, list_period()),
            rate,
            f"{campaign.accepted_count:,}",
            f"{campaign.screened_count:,}",
        )

    @admin.display(description="Connect rate")
    def connect_rate(self, campaign: Campaign) -> str:
        return format_html(
            '{} <small class="cell-note">of {} calls</small>',
            percent(campaign.accepted_count, campaign.calls_count),
            f"{campaign.calls_count:,}",
        )

    @admin.display(description="Rings", ordering="numbers_count")
    def setup(self, campaign: Campaign) -> str:
        """What rings (→ one after another, + all at once), then its numbers and status."""
        labels = [destination.label for destination in campaign.destinations.all()]
        joiner = " + " if campaign.ring_strategy == Campaign.RingStrategy.SIMULTANEOUS else " → "
        count = campaign.numbers_count
        note = f"{count} tracking number{'' if count == 1 else 's'}"
        if not campaign.is_active:
            note += " · inactive"
        return format_html(
            '{} <small class="cell-note">{}</small>', joiner.join(labels) or DASH, note
        )

    @admin.display(description="Preview")
    def whisper_preview(self, campaign: Campaign | None) -> str:
        if campaign is None or campaign.pk is None:
            return "Save the campaign to hear a preview here."
        examples = [
            (f"A caller from {PREVIEW_PLACE.spoken}", campaign.whisper_for(PREVIEW_PLACE)),
            ("A caller whose city Twilio does not know", campaign.whisper_for(STATE_ONLY_PLACE)),
            ("A caller whose location is unknown", campaign.whisper_for(CallerPlace())),
        ]
        warning = ""
        template = campaign.whisper_template
        if campaign.announce_location and template:
            values = placeholder_values(
                campaign=campaign.name, place=CallerPlace(), template=template
            )
            dropped = [name for name in drops_words(template, values) if name != "campaign"]
            if dropped:
                warning = format_html(
                    '<p class="whisper-warning">Twilio often does not know where a caller is '
                    "(mobiles, unlisted numbers). Then {} says nothing and the part of the "
                    "sentence around it is left out, as the last example shows.</p>",
                    ", ".join(f"{{{name}}}" for name in dropped),
                )
        return format_html(
            '<dl class="whisper-preview">{}</dl>{}',
            format_html_join(
                "", '<dt>{}</dt><dd><q class="whisper-sentence">{}</q></dd>', examples
            ),
            warning,
        )
