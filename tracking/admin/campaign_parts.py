"""The campaign form and the parts edited inside it: destinations, opening hours, holidays and
tracking numbers; one message per mistake, message fields shown whole."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminTimeWidget
from django.db import models
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from tracking import hours, phones
from tracking.admin.numbers import TrackingNumberForm
from tracking.models import Campaign, Destination, Holiday, OpeningHours, TrackingNumber


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


def typed_tracking_numbers(data) -> set[str]:
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
        fields = ["label", "phone_number", "agent"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault("order", self.instance.position + 1)

    def clean_phone_number(self) -> str:
        number = self.cleaned_data["phone_number"]
        return phones.to_e164(number) if number.strip() else ""

    def clean(self) -> dict:
        data = super().clean()
        if "phone_number" in data and bool(data["phone_number"]) == bool(data.get("agent")):
            self.add_error("phone_number", "Enter a phone number or choose an agent.")
        return data


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
        numbers = [
            form.cleaned_data["phone_number"] or f"agent {form.cleaned_data['agent'].pk}"
            for form in kept
        ]
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
                form.add_error(
                    "phone_number", "This number or agent is already a destination above."
                )
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
    fields = ["order", "label", "phone_number", "agent"]
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
