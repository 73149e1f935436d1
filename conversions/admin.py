"""Conversions in the admin: each call's uploads on its page, the upload log with "Send again",
and the Google Ads offline-conversion CSV download."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from attribution.models import CallAttribution
from conversions import config, google_csv, services
from conversions.models import Upload
from tracking.admin.calls import ReadOnlyCallPartInline
from tracking.admin.display import DASH
from tracking.models import Call
from tracking.reports import PeriodForm

# The longest range one download covers (Google takes clicks up to 90 days old).
MAX_DAYS = 400


def _consent(call: Call) -> str:
    """What the visitor consented to for ads, as sent with the call's conversions."""
    try:
        attribution = call.attribution
    except CallAttribution.DoesNotExist:
        return "Not known: sent as not consented"

    def said(value: bool | None) -> str:
        return {True: "granted", False: "denied"}.get(value, "not said (sent as denied)")

    return (
        f"ad user data {said(attribution.ad_user_data)}, "
        f"ad personalization {said(attribution.ad_personalization)}"
    )


def _status(upload: Upload) -> str:
    return format_html(
        '<span class="upload-status upload-status-{}">{}</span>',
        upload.status,
        upload.get_status_display(),
    )


class UploadInline(ReadOnlyCallPartInline):
    """On a call's page: where its conversion went, and what Google said."""

    model = Upload
    verbose_name = "conversion upload"
    verbose_name_plural = "Conversions sent to Google"
    fields = [
        "destination",
        "state",
        "attempts",
        "error",
        "sent_at",
        "next_attempt_at",
        "consent",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        # In the order they were planned.
        uploads = super().get_queryset(request).select_related("call__attribution")
        return uploads.order_by("created_at", "pk")

    @admin.display(description="State")
    def state(self, upload: Upload) -> str:
        return _status(upload)

    @admin.display(description="Last error")
    def error(self, upload: Upload) -> str:
        return upload.last_error or DASH

    @admin.display(description="Consent")
    def consent(self, upload: Upload) -> str:
        return _consent(upload.call)


class CsvForm(PeriodForm):
    max_days = MAX_DAYS

    conversion_name = forms.CharField(
        max_length=100,
        help_text="The conversion action's name in Google Ads, exactly as written there.",
    )


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["call_link", "destination", "state", "attempts", "last_error", "sent_at"]
    list_filter = ["destination", "status"]
    list_select_related = ["call"]
    date_hierarchy = "created_at"
    search_fields = ["call__call_sid"]
    actions = ["send_again"]
    change_list_template = "admin/conversions/upload/change_list.html"
    fields = [
        "call",
        "destination",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "next_attempt_at",
        "request_id",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # As for calls: superusers only, so that erasing a call erases its uploads too.
        return request.user.is_superuser

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("conversions.change_upload")

    @admin.display(description="Call", ordering="call__started_at")
    def call_link(self, upload: Upload) -> str:
        url = reverse("admin:tracking_call_change", args=[upload.call.pk])
        return format_html('<a href="{}">{}</a>', url, upload.call_id)

    @admin.display(description="State", ordering="status")
    def state(self, upload: Upload) -> str:
        return _status(upload)

    @admin.action(description="Send again", permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Upload]) -> None:
        count = services.uploads_send_again(uploads=queryset)
        self.message_user(
            request,
            f"{count} upload(s) will be sent again; uploads already sent are never sent twice.",
            messages.SUCCESS,
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        context = {
            "csv_url": reverse("admin:conversions_google_ads_csv"),
            "google_ads_problems": config.google_ads_problems(),
            "ga4_problems": config.ga4_problems(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def get_urls(self):
        view = self.admin_site.admin_view(self.google_ads_csv_view)
        return [
            path("google-ads.csv/", view, name="conversions_google_ads_csv"),
            *super().get_urls(),
        ]

    def google_ads_csv_view(self, request: HttpRequest) -> HttpResponse:
        """Google Ads' offline-conversion import file for a date range: the form, then (with
        valid dates) the file. For people who may see calls (marketers, staff with that
        permission)."""
        if not request.user.has_perm("tracking.view_call"):
            raise PermissionDenied
        today = timezone.localdate()
        initial = {
            "start": today - timedelta(days=29),
            "end": today,
            "conversion_name": settings.GOOGLE_ADS_CONVERSION_NAME,
        }
        form = CsvForm(request.GET) if "start" in request.GET else CsvForm(initial=initial)
        if form.is_bound and form.is_valid():
            first, last = form.cleaned_data["start"], form.cleaned_data["end"]
            filename = f"google-ads-conversions-{first:%Y%m%d}-{last:%Y%m%d}.csv"
            return StreamingHttpResponse(
                google_csv.lines(
                    first=first,
                    last=last,
                    conversion_name=form.cleaned_data["conversion_name"],
                ),
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Google Ads offline conversions (CSV)",
            "opts": self.opts,
            "form": form,
            "time_zone": settings.TIME_ZONE,
        }
        status = 400 if form.is_bound else 200
        return TemplateResponse(
            request, "admin/conversions/upload/google_ads_csv.html", context, status=status
        )


def _extend_call_admin() -> None:
    """The call log is the tracking app's; conversions add their panel to a call's page."""
    call_admin = admin.site.get_model_admin(Call)
    call_admin.inlines = [*call_admin.inlines, UploadInline]


_extend_call_admin()
