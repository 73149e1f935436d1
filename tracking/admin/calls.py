"""The read-only call log: the list, a call's page, its recordings, export and reports."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from tracking import phones, reports, services
from tracking.admin.call_export import CSV_COLUMNS, csv_lines
from tracking.admin.call_list import (
    CallerCountryFilter,
    CallerStateFilter,
    CappedCountPaginator,
    PeriodsBetweenBounds,
)
from tracking.admin.display import DASH, PhoneSearchMixin, minutes_seconds
from tracking.models import Call, CallLeg, Recording
from whisper import twilio_api


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
                "<int:call_id>/called-back/",
                self.admin_site.admin_view(self.called_back_view),
                name="tracking_call_callback_done",
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

    @method_decorator(require_POST)
    def called_back_view(self, request: HttpRequest, call_id: int) -> HttpResponse:
        """The dashboard's "Called back" button: the call leaves the call-back list."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        call = Call.objects.filter(pk=call_id).first()
        if call is None:
            messages.error(request, "That call is no longer in the call log.")
        elif services.call_mark_called_back(call_id=call.pk, by=request.user.get_username()):
            number = phones.national(call.caller_number) if call.caller_number else "the caller"
            messages.success(request, f"Marked {number} as called back.")
        else:
            messages.info(request, "That call was already marked as called back.")
        return HttpResponseRedirect(reverse("admin:index") + "#call-backs")

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
