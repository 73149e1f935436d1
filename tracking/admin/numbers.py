"""Tracking numbers: the numbers callers dial, and where their calls ring."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Func, IntegerField, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from tracking import phones
from tracking.admin import display
from tracking.admin.display import DASH, ActiveFilter, PhoneSearchMixin
from tracking.admin.provisioning import NumberProvisioningMixin
from tracking.models import Call, TrackingNumber


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


@admin.register(TrackingNumber)
class TrackingNumberAdmin(NumberProvisioningMixin, PhoneSearchMixin, admin.ModelAdmin):
    form = TrackingNumberForm
    list_display = [
        "number",
        "label",
        "campaign",
        "destination_number",
        "calls",
        "is_active",
    ]
    list_display_links = ["number"]
    list_filter = [ActiveFilter, "campaign"]
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

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        return super().changelist_view(
            request, {"title": "Tracking numbers", **(extra_context or {})}
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = dict(extra_context or {})
        if object_id and str(object_id).isdigit():
            context["calls_url"] = _calls_url(int(object_id))
        return super().change_view(request, object_id, form_url, context)

    def delete_view(self, request, object_id, extra_context=None):
        """Deleting a number keeps its calls but loses which number they came in on: say how
        many, and what to do instead."""
        context = dict(extra_context or {})
        if str(object_id).isdigit():
            context["calls_count"] = Call.objects.filter(tracking_number_id=object_id).count()
            context["calls_url"] = _calls_url(int(object_id))
        return super().delete_view(request, object_id, context)

    @admin.display(description="Number", ordering="phone_number")
    def number(self, number: TrackingNumber) -> str:
        return format_html(
            '{} <small class="cell-note">{}</small>',
            phones.national(number.phone_number),
            number.phone_number,
        )

    @admin.display(description="Calls go to")
    def destination_number(self, number: TrackingNumber) -> str:
        if number.forward_to:
            return phones.national(number.forward_to)
        destinations = number.campaign.destinations.all()
        return ", ".join(phones.national(d.phone_number) for d in destinations) or DASH

    @admin.display(description="Calls, all time", ordering="calls_count")
    def calls(self, number: TrackingNumber) -> str:
        last = display.when(number.last_call_at)
        return format_html(
            '<a href="{}">{}</a> <small class="cell-note">{}</small>',
            _calls_url(number.pk),
            f"{number.calls_count:,}",
            f"last {last}" if number.last_call_at else "no call yet",
        )


def _calls_url(number_id: int) -> str:
    return reverse("admin:tracking_call_changelist") + f"?tracking_number__id__exact={number_id}"
